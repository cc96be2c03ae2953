"""PyInstaller's script: the frozen app starts here (logic lives in stylestudio.launcher)."""

from stylestudio.launcher import main

raise SystemExit(main())
