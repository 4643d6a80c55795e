"""Core: the job contract, progress/cancel, errors, atomic writes, image I/O, data set scanning.

Never imports Qt, never prints, never exits.
"""
