"""`python -m launcher` (`make run`): run the whole exchange on this machine until Ctrl-C."""

from launcher.run import main

if __name__ == "__main__":
    raise SystemExit(main())
