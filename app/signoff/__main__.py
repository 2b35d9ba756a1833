import sys

from signoff.entry import main

sys.exit(main())
