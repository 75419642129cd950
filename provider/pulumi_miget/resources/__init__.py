"""One module per Miget resource: its field spec, its provider and the resource class (with its
``*Args``). The pickled provider names stay at ``pulumi_miget.credential`` and
``pulumi_miget.app`` (users' states hold them)."""
