"""``python -m apps`` is the ``lorasuite`` command."""

from apps.cli import main

raise SystemExit(main())
