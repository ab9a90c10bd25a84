% Tuning rules: P::action(Action, Problem) is the probability of applying
% Action when Problem is diagnosed (the paper's Table 2). These are the
% initial probabilities; after every trial they are re-learned from whether
% earlier actions improved the best result (learning from interpretations).
%
% For each diagnosed problem symtuner applies the most probable applicable
% action, plus every other applicable one at 0.9 or above (reg_l2 and
% batch_norm go together, as in the paper).

0.99::action(reg_l2, overfitting) :- problem(overfitting).
0.99::action(batch_norm, overfitting) :- problem(overfitting).
0.4::action(inc_dropout, overfitting) :- problem(overfitting).
0.6::action(data_augmentation, overfitting) :- problem(overfitting).

0.3::action(decr_lr, underfitting) :- problem(underfitting).
0.5::action(inc_neurons, underfitting) :- problem(underfitting).
0.45::action(new_fc_layer, underfitting) :- problem(underfitting).
0.45::action(new_conv_layer, underfitting) :- problem(underfitting).

0.99::action(decr_lr, increasing_loss) :- problem(increasing_loss).

0.85::action(inc_batch_size, fluctuating_loss) :- problem(fluctuating_loss).
0.15::action(decr_lr, fluctuating_loss) :- problem(fluctuating_loss).

0.99::action(decr_lr, high_lr) :- problem(high_lr).
0.99::action(inc_lr, low_lr) :- problem(low_lr).
