% Diagnosis of training problems from one trial's learning curves
% (the problems of the paper's Table 1), their causes and their reasons.
%
% symtuner adds, for every trial, one fact(Name, Value) per number computed
% from the curves (symtuner/symbolic/facts.py lists and defines them:
% end_loss, acc_gap, train_skill, loss_scale, diverged, ...) and the
% threshold/2 facts below, with the user's overrides applied.
%
% Thresholds on a loss are multiples of the loss scale (fact loss_scale):
% ln(n_classes), the loss of a uniform guess, for a classifier whose class
% count is known; otherwise the curve's own first-epoch level. The same
% defaults then serve 2 classes and 1000, and losses other than cross-entropy.
%
% Every problem is derived from a reason(Problem, Why) clause whose Why term
% carries the numbers it compared; symtuner queries these terms and only
% formats them (a user rule gets the same kind of explanation by writing a
% reason/2 clause). Symptoms and causes are both reported; explains/2 says
% which problem explains which, and the tuning rules act on causes.

:- unknown(fail).

% ---------------------------------------------------------------- thresholds
threshold(min_epochs, 3).       % fewer epochs are too short to judge (only a divergence is reported)
threshold(acc_gap, 0.2).        % train - val accuracy at the end above this: overfitting
threshold(loss_gap, 0.1).       % val - train loss at the end above this x scale: overfitting
threshold(val_rise, 0.2).       % val loss ends this share above its (rolling-median) minimum ...
threshold(val_rise_loss, 0.02). % ... and this x scale above it ...
threshold(val_rise_epochs, 2).  % ... its minimum this many epochs back, the train loss falling since: overfitting
threshold(low_skill, 0.5).      % train and val accuracy end less than this share of the way from chance to 1: underfitting
threshold(high_loss, 0.5).      % no accuracy logged: train (and val) loss end above this x scale, levelled: underfitting
threshold(levelled, 0.5).       % levelled: the last epoch fell less than this share of the mean fall per epoch
threshold(stuck_acc, 0.005).    % accuracy moved less than this after epoch 1 ...
threshold(stuck_loss, 0.02).    % ... and the loss less than this x scale ...
threshold(stuck_level, 0.1).    % ... far from a fit (above this x scale): stuck, underfitting
threshold(loss_rebound, 0.05).  % smoothed train loss ends this x scale above its minimum: increasing loss
threshold(loss_rise, 0.01).     % ... or rises on most steps and ends this x scale above its minimum
threshold(fluct_turns, 2).      % the train loss changes direction at least this often ...
threshold(fluct_rise, 0.15).    % ... by more than this share of its level on average ...
threshold(fluct_floor, 0.01).   % ... and by more than this x scale (jitter of a near-zero loss is not a fluctuation)
threshold(low_lr_shape, 0.25).  % |bend| of the falling loss below this share of the drop's triangle: straight-line fall
threshold(low_lr_loss, 0.5).    % ... while the train loss is still above this x scale: low learning rate
threshold(low_lr_epochs, 5).    % ... over at least this many epochs (fewer points look straight by chance)
threshold(shape_steps, 8).      % ... of at least this many optimizer steps each (fact epoch_steps, known in a study)
threshold(still_move, 0.02).    % train loss never moved by this x scale, stuck above stall_loss: low learning rate
threshold(explode_loss, 2.0).   % train loss after epoch 1 above this x scale: high learning rate
threshold(overshoot, 1.1).      % after a first epoch above explode_loss x scale, the loss at most this x scale ...
threshold(stall_loss, 0.9).     % ... and still above this x scale: a blow-up killed the network, high learning rate
threshold(dead_move, 0.001).    % after a first epoch that moved, the loss frozen within this x scale: dead, high learning rate
threshold(high_lr_area, 0.75).  % val loss area above its straight line by this share: high learning rate
threshold(chance_skill, 0.1).   % train accuracy less than this share of the way from chance to 1: never learned

% ------------------------------------------------------------------- helpers
limit(Name, L) :- threshold(Name, T), fact(loss_scale, K), L is T * K.
flag(Name) :- fact(Name, V), V > 0.5.

% A diverged training (NaN or infinite values) or one whose loss exploded far
% above the scale after the first epoch is a learning-rate problem: its gaps
% say nothing about regularisation. One high first epoch alone (a pretrained
% head, an embedding warming up), or a loss that starts high and only falls
% (an extreme L2 penalty), is no explosion: the loss must rise at least once.
diverged :- flag(diverged).
exploded(M, L) :-
    fact(later_max_loss, M), limit(explode_loss, L), M > L, fact(rising_steps, R), R > 0.
trusted :- \+ diverged, \+ exploded(_, _).
judged :- fact(n_epochs, N), threshold(min_epochs, M), N >= M.
sound :- judged, trusted.

% The training loss has levelled off (or was never falling).
levelled :- fact(last_fall_share, S), threshold(levelled, T), S < T.

% Stuck: after the first epoch neither the accuracy nor the loss moves, and the
% loss is still far from a fit (a dead network, or one predicting the class
% prior: with 90 % of one class its accuracy is 0.90 and its loss the prior's
% entropy, 0.33, well above a fit's). A network that fits cannot sit still at
% such a loss: its loss keeps falling. (A loss that falls at every epoch, however
% slowly, is not stuck: that is a small step, see low_lr.)
stuck(A, M) :-
    flag(has_accuracy), fact(late_acc_range, A), threshold(stuck_acc, TA), A < TA,
    fact(falling_steps, F), fact(n_epochs, N), F < N - 1,
    fact(late_loss_move, M), limit(stuck_loss, TM), M < TM,
    fact(end_loss, L), limit(stuck_level, H), L > H.

problem(P) :- reason(P, _).

% Never learned: the training accuracy levelled off barely above chance
% (less than chance_skill of the way to 1), or, where no accuracy is logged,
% the training loss levelled off at chance level (a uniform guess's loss: the
% network fits nothing). A curve still falling is a network learning slowly.
% Such a network says nothing about its size or its regularisation: whatever
% stopped it from learning (its rate, optimizer or activation) must be found
% first (rules/tuning.pl).
never_learned(accuracy_at_chance(A, Bar)) :-
    judged, levelled, flag(has_accuracy), fact(train_skill, S), threshold(chance_skill, T), S < T,
    fact(end_accuracy, A), fact(chance, C), Bar is C + T * (1 - C).
never_learned(loss_at_chance(L, T)) :-
    judged, levelled, \+ flag(has_accuracy), \+ fits, fact(end_loss, L), limit(stall_loss, T).
learned :- \+ never_learned(_).

% Remarks that are no problem. withholds(Note): the note withholds the verdict,
% so a curve too short to judge reads "not judged", never "no problem found".
note(too_short, epochs(N, M)) :- fact(n_epochs, N), threshold(min_epochs, M), N < M.
withholds(too_short).

% --------------------------------------------------------------- overfitting
% Signed gaps at the end of the run (medians of the last epochs, so one noisy
% point does not decide), or the classic shape: the validation loss turns and
% climbs for epochs while the training loss keeps falling smoothly. (When the
% training loss itself zig-zags or climbs, every step swings the validation
% loss too, and its rise is no sign of memorising.)
smooth_training :- \+ problem(fluctuating_loss), \+ problem(increasing_loss).
% A network whose training loss is still at chance level fits nothing, so it
% has nothing to overfit (the losses of a dead network differ by accident).
fits :- fact(end_loss, L), limit(stall_loss, T), L < T.
reason(overfitting, gap(accuracy, G, T)) :-
    sound, flag(has_val_accuracy), fact(acc_gap, G), threshold(acc_gap, T), G > T.
reason(overfitting, gap(loss, G, L)) :-
    sound, flag(has_val), fits, fact(loss_gap, G), limit(loss_gap, L), G > L.
reason(overfitting, val_turn(Min, End, E)) :-
    sound, flag(has_val), smooth_training,
    fact(val_rise_epochs, E), threshold(val_rise_epochs, TE), E >= TE,
    fact(val_rise_share, S), threshold(val_rise, TS), S > TS,
    fact(val_rise, R), limit(val_rise_loss, TR), R > TR,
    fact(train_fall_since_val_min, F), F > 0,
    fact(min_val_loss, Min), fact(end_val_loss, End).

% -------------------------------------------------------------- underfitting
% The network fits even its training data poorly at the end of the run,
% whatever the reason (a learning-rate problem may explain it: see explains/2).
% Measured from chance level, so a 4-class run at 0.80 is no failure while a
% run stuck at the class prior is.
%
% Read on the training side: a network that cannot fit its training data is
% underfitting even when its validation accuracy is higher (dropout lowers
% the training accuracy Keras reports). An exploded run that ends at chance
% level is underfitting too (its cause, high_lr, explains it); a run that
% turned NaN is judged on the learning rate alone. The loss level decides only
% when no accuracy is logged: what loss a fair fit reaches depends on the task
% far more than what accuracy it reaches, measured from chance.
reason(underfitting, poor_fit(A, Bar)) :-
    judged, \+ diverged, flag(has_accuracy),
    fact(train_skill, S), threshold(low_skill, T), S < T,
    fact(end_accuracy, A), fact(chance, C), Bar is C + T * (1 - C).
reason(underfitting, stuck(A, M)) :- judged, \+ diverged, stuck(A, M).
reason(underfitting, loss_level(L, H)) :-
    judged, \+ diverged, \+ flag(has_accuracy), levelled,
    fact(end_loss, L), limit(high_loss, H), L > H,
    ( \+ flag(has_val) ; fact(end_val_loss, V), V > H ).

% ----------------------------------------------------------- increasing loss
% Read on the smoothed training loss, so one noisy epoch is not a trend. Rising
% on most steps means more than half of all of them: a loss that jumped once and
% then froze rose on one step, and is no rising trend (a frozen loss is read by
% the learning-rate rules: dead/3, no_move/3).
reason(increasing_loss, diverged(E)) :- diverged, fact(diverged_epoch, E).
reason(increasing_loss, rebound(R, L)) :-
    judged, \+ diverged, fact(smoothed_rebound, R), limit(loss_rebound, L), R > L.
reason(increasing_loss, rising(Up, Steps)) :-
    judged, \+ diverged,
    fact(n_epochs, N), Steps is N - 1,
    fact(smoothed_rising_steps, Up), fact(smoothed_falling_steps, Down), Up > Down, 2 * Up > Steps,
    fact(smoothed_rebound, R), limit(loss_rise, L), R > L.

% ---------------------------------------------------------- fluctuating loss
% The training loss must swing down and up repeatedly, by a fair share of its
% level and by a visible amount on its own scale (a noisy but falling loss has
% up and down steps too; a loss near zero jitters by large shares of nothing).
reason(fluctuating_loss, zigzag(Turns, Rise, T)) :-
    judged,
    fact(turns, Turns), threshold(fluct_turns, N), Turns >= N,
    fact(mean_rise, Rise), threshold(fluct_rise, T), Rise > T,
    fact(mean_rise_scaled, RS), threshold(fluct_floor, F), RS > F.

% ------------------------------------------------------------ learning rate
% (The "too small" and "too large" readings exclude each other: a loss that
% swings or climbs is no sign of a small step.)
% Low: the loss falls at every epoch in a nearly straight line (no fast early
% drop) and is still high, over enough epochs for a shape to mean something.
straight_fall(Last, L) :-
    sound,
    fact(n_epochs, N), threshold(low_lr_epochs, E), N >= E,
    fact(falling_steps, F), F >= N - 1,
    fact(fall_bend, B), threshold(low_lr_shape, S), abs(B) < S,
    fact(last_loss, Last), limit(low_lr_loss, L), Last > L.
% Over epochs of few optimizer steps (a large batch on a small data set: one
% step per epoch at batch 256 of 240 images) any rate's first steps fall in a
% nearly straight line: the shape then says the training took too few steps,
% not that each was too small (decr_batch_size answers the underfitting; see
% rules/tuning.pl). The fact epoch_steps is known only in a study; a bare
% curve is read on its shape.
few_epoch_steps(Steps, T) :- fact(epoch_steps, Steps), threshold(shape_steps, T), Steps < T.
reason(low_lr, straight_fall(Last, L)) :- straight_fall(Last, L), \+ few_epoch_steps(_, _).
note(few_epoch_steps, epoch_steps(Steps, T)) :- straight_fall(_, _), few_epoch_steps(Steps, T).
% Low, too: the loss sits at chance level and has (almost) not moved. (Stuck
% above a uniform guess's loss, the network is confidently wrong: no small
% step from a fresh start does that; see blown_then_stuck.) A loss that fell
% at every epoch, however little, is read by straight_fall when the run is
% long enough for a shape; one reason per reading, so the two never say
% "stayed" and "fell at every epoch" of one curve.
reason(low_lr, no_move(Min, Max, K)) :-
    sound, \+ reason(low_lr, straight_fall(_, _)),
    fact(last_loss, Last), limit(stall_loss, T), Last > T, limit(overshoot, O), Last =< O,
    fact(max_loss, Max), fact(min_loss, Min), limit(still_move, S), Max - Min < S,
    fact(loss_scale, K).

% High: the training diverged, the loss exploded after the first epoch, a
% first epoch far above a uniform guess's loss (a blow-up averaged in) left
% the network at chance level from the second epoch on (a loss that keeps
% coming down from high is a large penalty being paid off, not this), the
% loss moved in the first epoch and then froze (dead units pass no gradient;
% a small step still moves, if only by noise), the training loss climbs back
% (steps that overshoot), or the validation loss spiked far above its trend.
% A network merely sitting near or a little above chance level with a noisy
% loss says nothing about the step's direction: a fresh network with dropout
% starts above a uniform guess's loss, and a tiny step leaves it there.
reason(high_lr, diverged(E)) :- diverged, fact(diverged_epoch, E).
reason(high_lr, exploded(M, L)) :- \+ diverged, exploded(M, L).
reason(high_lr, blown_then_stuck(First, Last, K)) :-
    sound,
    fact(first_loss, First), limit(explode_loss, X), First > X,
    fact(later_max_loss, M), limit(overshoot, O), M =< O,
    fact(last_loss, Last), limit(stall_loss, T), Last > T,
    fact(loss_scale, K).
% A first epoch more than explode_loss times every later one, and more than
% explode_loss times a uniform guess's loss where that is known, after which
% the network fits poorly: a blow-up averaged into the first epoch. (A large
% L2 penalty being paid off comes down over several epochs, not in one.)
% Without a class count (a TensorBoard log or a CSV read without one) the
% scale is the first epoch's level itself, which the blow-up inflated, so
% only the fall to the later epochs can tell.
reason(high_lr, blown_first(First, Later)) :-
    judged, \+ diverged,
    fact(first_loss, First), fact(later_max_loss, Later), threshold(explode_loss, X), First > X * Later,
    ( \+ flag(known_scale) ; limit(explode_loss, L), First > L ),
    flag(has_accuracy), fact(train_skill, S), threshold(low_skill, T), S < T.
reason(high_lr, dead(First, Last, K)) :-
    sound,
    fact(first_loss, First), fact(last_loss, Last), limit(still_move, S), abs(First - Last) >= S,
    fact(late_loss_move, M), limit(dead_move, D), M < D,
    limit(stall_loss, T), Last > T,
    fact(loss_scale, K).
reason(high_lr, climbs_back(R)) :- trusted, reason(increasing_loss, rebound(R, _)).
% (climbs_back:) the epoch mean of the training loss rising again and again: over a whole
% epoch of the same data the steps made the fit worse, so they are too large
% (the effective step grows with the rate and with the noise of small batches).
reason(high_lr, zigzag_steps(Turns)) :- reason(fluctuating_loss, zigzag(Turns, _, _)).
reason(high_lr, val_spike(A, L)) :-
    sound, flag(has_val),
    fact(val_loss_area, A), fact(val_loss_line_area, L), threshold(high_lr_area, T), A - L > T * L.

% -------------------------------------------------------- causes and conflicts
% explains(Cause, Symptom): when both are diagnosed, Cause explains Symptom,
% and the tuning rules act on the cause.
explains(low_lr, underfitting).
explains(high_lr, underfitting).
explains(high_lr, increasing_loss).
explains(high_lr, fluctuating_loss).

% precedes(First, Other): contradictory problems; act on First. A network
% that fits neither its training nor its validation data is underfitting
% first: regularising it would make it worse.
precedes(underfitting, overfitting).

cause(Symptom, Cause) :- explains(Cause, Symptom), problem(Cause), problem(Symptom).
deferred(Problem, First) :- precedes(First, Problem), problem(First), problem(Problem).

% The problems the tuning rules act on: diagnosed, not explained by another
% diagnosed problem, not deferred to a contradictory one.
acted_on(P) :- problem(P), \+ cause(P, _), \+ deferred(P, _).

% ------------------------------------------------------------ early stopping
% Read after every epoch on the curve so far; symtuner stops a trial when one
% holds: the loss diverged or exploded, the network is stuck (whatever the
% diagnosis then finds as its cause: a step too small or too large), or even an
% optimistic projection (the best epoch-to-epoch gain of the last epochs kept
% up to the last epoch) cannot beat the best trial so far. The facts
% has_best, best_objective and projected_objective (higher is better) come
% from the study; without a best trial (has_best 0) only the first three apply.
%
% lost(Why): a step so large that the network is lost: the loss diverged,
% exploded, blew up and then sat at chance level, or moved and then froze.
% Nothing is left to wait for: a study stops such a trial, and so does
% DiagnosisCallback(stop_on_divergence=True) around any Keras training.
lost(diverged(E)) :- reason(high_lr, diverged(E)).
lost(exploded(M, L)) :- reason(high_lr, exploded(M, L)).
lost(blown_then_stuck(F, L, K)) :- reason(high_lr, blown_then_stuck(F, L, K)).
lost(blown_first(F, L)) :- reason(high_lr, blown_first(F, L)).
lost(dead(F, L, K)) :- reason(high_lr, dead(F, L, K)).
stop(Why) :- lost(Why).
stop(stuck(A, M)) :- reason(underfitting, stuck(A, M)).
%
% A trial is judged behind only once its curve has shown where it is going:
% the network fits, its loss has levelled off, or the rules read its shape as
% a learning-rate problem. A loss still falling freely from chance level (a
% slow start: small batches of a hard task, a moderate rate) has not: the
% accuracy of its first epochs is noise around chance and says little about
% where it ends, so projecting it would stop trials that were about to learn.
shown :- fits.
shown :- levelled.
shown :- problem(low_lr).
shown :- problem(high_lr).
stop(behind(P, B)) :-
    flag(has_best), judged, shown,
    fact(projected_objective, P), fact(best_objective, B), P < B.
