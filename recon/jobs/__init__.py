"""Background work: the one place that starts and schedules every background task of a
process (fleet monitor, notifier, terminal GC, retention, repair). The factory starts none.
"""
