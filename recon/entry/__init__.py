"""Process entry points: ``make run`` (:mod:`recon.entry.serve`), the app as gunicorn and the
flask CLI load it (:mod:`recon.entry.app`) and the ``recon`` command group
(:mod:`recon.entry.cli`).
"""
