"""The symbolic component: learning-curve facts, ProbLog diagnosis and tuning
rules, action choice, and LFI re-learning of the rule probabilities.

Modules: ``facts`` (curve -> numbers, no ProbLog), ``rules`` (load and check
the .pl rule base), ``engine`` (diagnose, choose, explain), ``lfi`` (evidence
and weight learning). ProbLog is imported only inside this package.
"""
