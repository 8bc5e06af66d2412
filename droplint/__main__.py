"""`python -m droplint` is the `droplint` command."""
from droplint.cli import main

if __name__ == "__main__":
    main()
