% Diagnosis of training problems from one trial's learning curves
% (the problems of the paper's Table 1).
%
% symtuner adds, for every trial, one fact(Name, Value) per number computed
% from the curves (symtuner/symbolic/facts.py lists them: last_loss,
% acc_gap, ln_classes, diverged, ...) and the threshold/2 facts below, with
% the user's overrides applied. Losses are cross-entropies, so thresholds
% on a loss are multiples of ln(n_classes), the loss of a uniform guess:
% the same defaults serve 2 classes and 1000.

:- unknown(fail).

% ---------------------------------------------------------------- thresholds
threshold(acc_gap, 0.2).        % train - val accuracy above this: overfitting
threshold(loss_gap, 0.1).       % val - train loss above this x ln(n_classes): overfitting
threshold(low_acc, 0.15).       % 1 - accuracy above this, in training and validation: underfitting
threshold(high_loss, 0.5).      % loss above this x ln(n_classes), in training and validation: underfitting
threshold(levelled, 0.5).       % ... once the last epoch's fall is below this share of the mean fall per epoch
threshold(loss_rebound, 0.05).  % smoothed train loss ends this x ln(n_classes) above its minimum: increasing loss
threshold(loss_rise, 0.01).     % ... or rises on most steps and ends this x ln(n_classes) above its minimum
threshold(fluct_turns, 2).      % the train loss changes direction at least this often ...
threshold(fluct_rise, 0.15).    % ... by more than this share of its level on average: fluctuating loss
threshold(low_lr_shape, 0.25).  % |area - line area| below this share of the drop's triangle: straight-line fall
threshold(low_lr_loss, 0.5).    % ... while the train loss is still above this x ln(n_classes): low learning rate
threshold(low_lr_epochs, 5).    % ... over at least this many epochs (fewer points look straight by chance)
threshold(explode_loss, 2.0).   % train loss ever above this x ln(n_classes): high learning rate
threshold(stall_loss, 0.9).     % train loss stuck above this x ln(n_classes), not falling: high learning rate
threshold(high_lr_area, 0.75).  % val loss area above its straight line by this share: high learning rate
threshold(still_move, 0.02).    % train loss never moved by this x ln(n_classes), stuck above stall_loss: low learning rate

% ------------------------------------------------------------------- helpers
% A diverged training (NaN or infinite values) or one whose loss exploded far
% above chance level is a learning-rate problem and nothing else: its gaps and
% levels say nothing about capacity or regularisation.
diverged :- fact(diverged, D), D > 0.5.
exploded :- fact(max_loss, M), fact(ln_classes, K), threshold(explode_loss, T), M > T * K.
trusted :- \+ diverged, \+ exploded.

% The training loss still falls as fast as on average (3 epochs or more): the
% network has not finished learning, so a poor fit is no sign of too little
% capacity yet (that is "train longer or faster", not "grow the network").
still_learning :-
    fact(n_epochs, N), N >= 3,
    fact(last_fall_share, S), threshold(levelled, T), S >= T.

% A clear learning-rate problem explains a poor fit by itself, so the curve
% says nothing about capacity: underfitting is not diagnosed on top of it.
lr_problem :- problem(high_lr).
lr_problem :- problem(low_lr).

% --------------------------------------------------------------- overfitting
% Signed gaps: a validation score better than the training one is no gap.
problem(overfitting) :-
    trusted, fact(acc_gap, G), threshold(acc_gap, T), G > T.
problem(overfitting) :-
    trusted, fact(loss_gap, G), fact(ln_classes, K), threshold(loss_gap, T), G > T * K.

% -------------------------------------------------------------- underfitting
% The network fits neither the training nor the validation data, and its
% training loss has levelled off. (Checking validation alone would call every
% overfitted network underfitted too.)
problem(underfitting) :-
    trusted, \+ lr_problem, \+ still_learning,
    fact(best_accuracy, A), fact(last_val_accuracy, V), threshold(low_acc, T),
    1 - A > T, 1 - V > T.
problem(underfitting) :-
    trusted, \+ lr_problem, \+ still_learning,
    fact(min_loss, L), fact(last_val_loss, VL), fact(ln_classes, K), threshold(high_loss, H),
    L > H * K, VL > H * K.

% ----------------------------------------------------------- increasing loss
% Read on the smoothed training loss, so one noisy epoch is not a trend.
problem(increasing_loss) :- diverged.
problem(increasing_loss) :-
    fact(smoothed_rebound, R), fact(ln_classes, K), threshold(loss_rebound, T), R > T * K.
problem(increasing_loss) :-
    fact(smoothed_rising_steps, Up), fact(smoothed_falling_steps, Down), Up > Down,
    fact(smoothed_rebound, R), fact(ln_classes, K), threshold(loss_rise, T), R > T * K.

% ---------------------------------------------------------- fluctuating loss
% Up and down steps alone are not enough (a noisy but falling loss has both,
% and a loss that turns and climbs steadily is increasing, not fluctuating):
% the loss must swing down and up repeatedly, by a fair share of its level.
problem(fluctuating_loss) :-
    trusted,
    fact(turns, Turns), threshold(fluct_turns, N), Turns >= N,
    fact(mean_rise, M), threshold(fluct_rise, T), M > T.

% ------------------------------------------------------------ learning rate
% Low: the training loss falls at every epoch, the validation loss falls in a
% nearly straight line (no fast early drop; measured against the triangle of
% the drop, not the whole area, which the loss level would dominate), and the
% loss is still high. Three or four points say little about a curve's shape
% (after 3 epochs on a few hundred images, with a handful of steps per epoch,
% almost every loss is still high and falls almost straight, whatever the
% rate), so this rule waits for low_lr_epochs epochs.
problem(low_lr) :-
    trusted,
    fact(n_epochs, N), threshold(low_lr_epochs, E), N >= E,
    fact(falling_steps, F), F >= N - 1,
    fact(first_val_loss, V0), fact(last_val_loss, V1), V0 > V1,
    fact(val_loss_area, A), fact(val_loss_line_area, L), threshold(low_lr_shape, S),
    abs(A - L) < S * (V0 - V1) * (N - 1) / 2,
    fact(last_loss, Last), fact(ln_classes, K), threshold(low_lr_loss, T), Last > T * K.

% Low, too: the loss sits at chance level and has not moved at all over the
% epochs (a too-small step, e.g. Adadelta at these rates). A too-large step
% that kills the network first moves the loss: its first epoch averages the
% explosion in, so it is caught by the high_lr rules below.
problem(low_lr) :-
    trusted,
    fact(n_epochs, N), N >= 3,
    fact(last_loss, Last), fact(ln_classes, K), threshold(stall_loss, T), Last > T * K,
    fact(max_loss, M), fact(min_loss, Mi), threshold(still_move, S), M - Mi < S * K.

% High: the training diverged, the loss exploded above chance level, it got
% stuck near chance level without falling steadily, or the validation loss
% spiked far above its straight-line trend.
problem(high_lr) :- diverged.
problem(high_lr) :- exploded.
problem(high_lr) :-
    trusted,
    fact(n_epochs, N), N >= 3,
    fact(last_loss, Last), fact(ln_classes, K), threshold(stall_loss, T), Last > T * K,
    fact(falling_steps, F), F < N - 1,
    fact(max_loss, M), fact(min_loss, Mi), threshold(still_move, S), M - Mi >= S * K.
problem(high_lr) :-
    trusted,
    fact(val_loss_area, A), fact(val_loss_line_area, L), threshold(high_lr_area, T),
    A - L > T * L.
