"""Pure array functions: no randomness, no classes, no validation.

Every kernel takes arrays and plain numbers and returns a new array; none writes into its input.
They are usable on their own, without the transform classes.
"""
