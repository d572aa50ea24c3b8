"""The bottom layer: the vocabulary every package shares — errors, entity names, references.

It imports nothing of the project; everything else may import it.
"""
