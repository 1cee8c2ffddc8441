"""The homelab's config: what the stack files say and every rule they must keep. No Pulumi
import here: the program (``components/``), the plan, promote and doctor all read config
through this one layer (models, value syntaxes, single-stack and homelab-wide rules, the names
objects refer to each other by, and the strict readers of the stack files and Pulumi.yaml)."""
