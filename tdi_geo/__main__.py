from tdi_geo.cli import main

raise SystemExit(main())
