from victor_server.cli import main

raise SystemExit(main())
