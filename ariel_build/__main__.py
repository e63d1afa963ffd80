from ariel_build.cli import main

raise SystemExit(main())
