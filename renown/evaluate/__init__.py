"""``renown evaluate``: the published evaluation of the score (attacks and properties, in points).

* :mod:`renown.evaluate.population`: generated populations (own seeds) and the Higgs networks;
* :mod:`renown.evaluate.cases`: the attacks and properties, each measured against its bound;
* :mod:`renown.evaluate.ranking`: Kendall tau and top-100 overlap against PageRank and degrees;
* :mod:`renown.evaluate.runner`: every case for every version; :mod:`renown.evaluate.report`: the
  table, JSON and ``docs/evaluation.md`` with figures.

A version is only a name passed to :func:`core.scoring.score_population`: a new version is evaluated
with no code change.
"""
