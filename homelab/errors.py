"""The one base of every error the tools raise for bad input or an unusable environment.

Each command turns them into its own message and exit code; what reaches ``homelab``'s command
line (:mod:`homelab.cli`) unhandled is caught there once: the message, exit 2, and the traceback
only with ``--debug``. Anything else that escapes is a bug, said so in one line."""


class HomelabError(Exception):
    """Bad input (a stack file, a flag, a chart) or an environment the command cannot use."""
