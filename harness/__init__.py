"""abi-harness: does this kind of extension wheel really work on that interpreter?"""

__version__ = "0.1.0"
