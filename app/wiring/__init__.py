"""The wiring: which concrete adapter serves each port, and the services built on them.

``app/main.py`` assembles the web application from these pieces; the CLI, the benchmarks and
the tests build the same services through ``open_services`` instead of by hand.
"""
