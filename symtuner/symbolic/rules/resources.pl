% Resource rules: what a trained network costs against the study's limits.
%
% symtuner adds, for every trial that measured its costs, fact(Cost, Value)
% for params (weights), flops (one forward pass of one sample), model_mb (the
% saved file) and latency_ms (the median time to predict one sample);
% fact(max_Cost, Limit) for each cost the study limits (max_params, ...); and
% fact(Cost_growth, Ratio), the cost over that of the trial before (1 for the
% first). Without limits none of these rules fire.
%
% Two problems: model_size (parameters, saved size) and latency (FLOPs,
% latency). Each holds when a cost is over its limit, or near it (within
% size_margin below it) while the networks grow (the cost at least growth
% times that of the trial before). They block the actions that grow a network
% (blocks/2: the actions are passed over, whatever problem chose them) and
% choose ones that shrink it.

% ---------------------------------------------------------------- thresholds
threshold(size_margin, 0.1).    % a cost within this share below its limit ...
threshold(growth, 1.05).        % ... and at least this many times that of the trial before: near the limit

% ------------------------------------------------------------------- helpers
size_cost(params).
size_cost(model_mb).
speed_cost(flops).
speed_cost(latency_ms).

cost(params, V, L, G) :- fact(params, V), fact(max_params, L), fact(params_growth, G).
cost(model_mb, V, L, G) :- fact(model_mb, V), fact(max_model_mb, L), fact(model_mb_growth, G).
cost(flops, V, L, G) :- fact(flops, V), fact(max_flops, L), fact(flops_growth, G).
cost(latency_ms, V, L, G) :- fact(latency_ms, V), fact(max_latency_ms, L), fact(latency_ms_growth, G).

over(C, V, L) :- cost(C, V, L, _), V > L.
near(C, V, L, G) :-
    cost(C, V, L, G), V =< L,
    threshold(size_margin, M), V > L * (1 - M),
    threshold(growth, T), G >= T.

% ------------------------------------------------------------------ problems
reason(model_size, over(C, V, L)) :- size_cost(C), over(C, V, L).
reason(model_size, near(C, V, L, G)) :- size_cost(C), near(C, V, L, G).
reason(latency, over(C, V, L)) :- speed_cost(C), over(C, V, L).
reason(latency, near(C, V, L, G)) :- speed_cost(C), near(C, V, L, G).

% ------------------------------------------------------- growth is blocked
grows(inc_neurons).
grows(new_fc_layer).
grows(new_conv_layer).

blocks(model_size, A) :- grows(A), problem(model_size).
blocks(latency, A) :- grows(A), problem(latency).

% ------------------------------------------------------ shrinking is chosen
% decr_neurons lowers the unit and filter ranges below the diagnosed trial's
% widths (by how far it is over, at least by neurons_factor); remove_fc_layer
% and remove_conv_layer take back the dense layer or conv block the tuning
% added last (a conv block holds most of the FLOPs, a dense layer many of the
% parameters).
0.8::action(decr_neurons, model_size) :- acted_on(model_size).
0.5::action(remove_fc_layer, model_size) :- acted_on(model_size).
0.8::action(decr_neurons, latency) :- acted_on(latency).
0.5::action(remove_conv_layer, latency) :- acted_on(latency).
0.3::action(remove_fc_layer, latency) :- acted_on(latency).
