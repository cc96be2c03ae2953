"""Qt-free core: models, engine, style format and library, image I/O.

Importing this package must stay cheap: torch is imported only by the modules that need it.
"""
