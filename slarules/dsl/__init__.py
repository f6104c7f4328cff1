"""The policy language: the lark grammar in ``grammar/slarules.lark`` and what it parses into."""
