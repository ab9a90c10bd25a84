% Tuning rules: P::action(Action, Problem) is the probability of applying
% Action for Problem (the paper's Table 2). These are the initial
% probabilities; after every trial they are re-learned from whether earlier
% actions improved the best result (learning from interpretations).
%
% The rules act on acted_on(Problem) (rules/diagnosis.pl): a diagnosed
% problem that no other diagnosed problem explains and that is not deferred
% to a contradictory one. An underfit network whose learning rate is too low
% gets inc_lr, not a bigger network; nor does one whose loss is still falling
% (levelled/0: it has not finished learning, capacity is not what it lacks).
%
% For each problem acted on symtuner applies the most probable applicable
% action, plus every other applicable one at 0.9 or above (reg_l2 and
% batch_norm go together, as in the paper).
%
% Learning rates belong to an optimizer: inc_lr and decr_lr move the
% diagnosed trial's optimizer's range, and never the rates at which another
% optimizer trained well (it keeps them as a range of its own), so opposite
% moves for two optimizers do not cancel. drop_optimizer (not in the paper)
% answers a learning-rate problem whose cause is the optimizer: it applies
% only when a trial trained well (the best, or any without underfitting or a
% learning-rate problem) with another optimizer, still offered, at a rate that
% contradicts the diagnosis. Below 0.9, it is chosen only when the
% optimizer's own range cannot move further.

0.99::action(reg_l2, overfitting) :- acted_on(overfitting).
0.99::action(batch_norm, overfitting) :- acted_on(overfitting).
0.4::action(inc_dropout, overfitting) :- acted_on(overfitting).
0.6::action(data_augmentation, overfitting) :- acted_on(overfitting).

% waits(Problem, Why): the tuning rules do not act on Problem yet, and why (the
% explanation shows it instead of "no applicable action").
waits(underfitting, still_learning(S, T)) :-
    acted_on(underfitting), \+ levelled, fact(last_fall_share, S), threshold(levelled, T).

% A network that never learned (rules/diagnosis.pl: its loss still at chance
% level) says nothing about its size: growing it is noise. The rules look for
% what stopped it first: an optimizer that another trial trained well with at
% a similar rate (drop_optimizer applies only then), an activation where
% another trial learned with the same optimizer at a similar rate
% (drop_activation applies only then), strong dropout (decr_dropout, below),
% or a learning-rate problem the diagnosis names (low_lr, high_lr explain the
% underfitting).
waits(underfitting, never_learned(Why)) :-
    acted_on(underfitting), never_learned(Why).
can_grow :- acted_on(underfitting), levelled, learned.

0.3::action(decr_lr, underfitting) :- can_grow.
0.5::action(inc_neurons, underfitting) :- can_grow.
0.45::action(new_fc_layer, underfitting) :- can_grow.
0.45::action(new_conv_layer, underfitting) :- can_grow.
0.7::action(drop_optimizer, underfitting) :- acted_on(underfitting), never_learned(_).
0.6::action(drop_activation, underfitting) :- acted_on(underfitting), never_learned(_).

% Moves past the first range for an underfit network that learned: less
% dropout or L2 when the trial was regularised (fact dropout_high / l2_high: a
% value in the upper half of its range), before a bigger network; smaller
% batches when the training ended still learning after fewer optimizer steps
% than few_steps in all (fact train_steps). A network that overfits although
% regularised is made narrower last. (The facts come from a study's trial:
% a diagnosis of a bare learning curve has none, and these rules stay silent.)
threshold(few_steps, 300).
% Strong dropout (more than half the units dropped, fact dropout_strong) can
% stop a network learning at all: for one that never learned it is a cause to
% look at, like the rate, the optimizer and the activation. Dropout of half or
% less (merely in the upper half of its range) slows a network but does not
% stop it: for a network that never learned, the rate or the optimizer is the
% likelier cause, and lowering it would only take away regularisation.
dropout_suspect :- can_grow, flag(dropout_high).
dropout_suspect :- acted_on(underfitting), never_learned(_), flag(dropout_strong).
0.55::action(decr_dropout, underfitting) :- dropout_suspect.
0.55::action(decr_l2, underfitting) :- can_grow, flag(l2_high).
0.6::action(decr_batch_size, underfitting) :-
    acted_on(underfitting), \+ levelled, fact(train_steps, S), threshold(few_steps, T), S < T.
0.3::action(decr_neurons, overfitting) :- acted_on(overfitting).

0.99::action(decr_lr, increasing_loss) :- acted_on(increasing_loss).

0.85::action(inc_batch_size, fluctuating_loss) :- acted_on(fluctuating_loss).
0.15::action(decr_lr, fluctuating_loss) :- acted_on(fluctuating_loss).

0.99::action(decr_lr, high_lr) :- acted_on(high_lr).
0.5::action(inc_batch_size, high_lr) :- acted_on(high_lr), problem(fluctuating_loss).
0.99::action(inc_lr, low_lr) :- acted_on(low_lr).
0.5::action(drop_optimizer, low_lr) :- acted_on(low_lr).
0.5::action(drop_optimizer, high_lr) :- acted_on(high_lr).
