"""The homelab's tools around the Pulumi program: the offline plan, promotion, doctor and
preflight, one command line (``homelab``, :mod:`homelab.cli`)."""
