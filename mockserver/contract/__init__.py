"""The contract stage: the OpenAPI document loaded, repaired and indexed.

A leaf: it imports nothing else of the package. What the mock adds to the document it
serves (the failures its behaviours send) comes in as data.
"""
