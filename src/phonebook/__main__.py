"""python -m phonebook: the same CLI as the phonebook command."""

from phonebook.cli import main

main()
