"""doctor: the seed's troubleshooting section as one read-only command against a live stack.

``homelab doctor --stack <stack>`` (``make doctor STACK=<stack>``) checks that what the
stack's config asks for is live and healthy, and says what to do when it is not.

Modules, along the seams of the work:

* :mod:`~homelab.doctor.expected`: what the stack asks for, read with the program's own config
  loading and names (never a second copy);
* :mod:`~homelab.doctor.deadline`: one deadline over the whole of each external call (the
  clients' timeouts bound each read only);
* :mod:`~homelab.doctor.kube`: read-only, time-bounded access to the cluster (official client);
* :mod:`~homelab.doctor.checks_cluster` (Cilium, LB-IPAM and L2, cluster DNS, Deployments) and
  :mod:`~homelab.doctor.checks_gateway` (gateways, routes, policies, certificate): cluster checks;
* :mod:`~homelab.doctor.cloudflare_api` (read-only, time-bounded, official SDK) and
  :mod:`~homelab.doctor.credentials` (the token, never shown): Cloudflare access;
* :mod:`~homelab.doctor.checks_cloudflare`: the tunnel and the DNS records;
* :mod:`~homelab.doctor.checks_dns`: public DNS and the ``--probe`` HTTPS GET;
* :mod:`~homelab.doctor.report`: the :class:`~homelab.doctor.report.Check` type, the table and JSON;
* :mod:`~homelab.doctor.runner`: runs the three sources in parallel; ``__main__``: the CLI.

``homelab preflight --stack <stack>`` (``make preflight``) shares all of it to
check, before the first ``pulumi up``, what on the cluster and at Cloudflare would make it fail:
:mod:`~homelab.doctor.preflight_plan` (what ``up`` creates, from the program's mock plan),
:mod:`~homelab.doctor.checks_preflight` (the cluster), :mod:`~homelab.doctor.checks_preflight_cloudflare`
(the token's permissions, the tunnel, the records) and :mod:`~homelab.doctor.preflight` (runner, CLI).

The ``check_*`` functions are pure (API object in, :class:`Check` out), so each judgement is
tested without a server, and the fetching is tested against a local fake API server.
"""
