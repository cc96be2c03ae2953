from stylestudio.cli.main import main

raise SystemExit(main())
