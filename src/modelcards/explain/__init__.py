"""Explainability: global SHAP importance computed from a saved model and a data file.

``compute`` turns an :class:`~modelcards.explain.compute.ExplainSettings` into an
:class:`~modelcards.explain.compute.Explanation`; ``cache`` keeps explanations on disk as
JSON plus ``.npy`` so a rebuild with unchanged inputs never imports SHAP.
"""
