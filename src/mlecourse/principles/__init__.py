"""The tools of each MLE principle, one module each, used by the demonstration notebooks."""
