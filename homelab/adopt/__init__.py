"""adopt: what of a stack already runs, and the import plan that lets ``pulumi up`` take it over.

``homelab adopt --stack <stack>`` (``make adopt STACK=<stack>``) is for a homelab the seed's Flux
already runs. For every resource the stack's first ``pulumi up`` would create (read from the
program itself, as preflight reads it: :mod:`homelab.doctor.preflight_plan`), it finds what runs
and says one of three things: absent (up creates it), present and importable (its import id, and
what the first up changes on it), or present but not adoptable as is (why, and the way out,
from ../shared/DESIGN.md "Adopting a running homelab"). Then it writes the import plan
(:mod:`homelab.config.imports`) for every importable resource. It only reads the cluster and
Cloudflare, through doctor's clients, deadlines and report.

Modules, along the seams of the work:

* :mod:`~homelab.adopt.findings`: one :class:`~homelab.adopt.findings.Finding` per resource (a
  report line, its import entry, its changes, the Flux objects that made it);
* :mod:`~homelab.adopt.changes`: what the first up changes, as dotted keys ``old -> new``, secrets
  never shown;
* :mod:`~homelab.adopt.releases`: Helm's release storage read back (the ``helm.v3.Release``\\ s);
* :mod:`~homelab.adopt.objects`: the Kubernetes objects, a ``helm.v4.Chart``'s objects, the
  cluster's identity;
* :mod:`~homelab.adopt.cloudflare`: the account, the tunnel and its configuration, the DNS records;
* :mod:`~homelab.adopt.output`: the report, the changes, the import plan written and what to do next;
* :mod:`~homelab.adopt.command`: the command line.
"""
