import sys

from nemovideo.cli import main

sys.exit(main())
