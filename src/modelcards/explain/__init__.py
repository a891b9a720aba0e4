"""Explainability: global SHAP importance, computed from a saved model and a data file or embedded.

``compute`` and ``embed`` make an :class:`~modelcards.explain.compute.Explanation`; ``cache`` keeps computed
ones on disk as JSON plus ``.npy``; ``plots`` draws shap's beeswarm plot as SVG; ``stage`` does all
of it for a catalog, computing only what is not cached, so a rebuild with unchanged inputs never imports SHAP.
"""
