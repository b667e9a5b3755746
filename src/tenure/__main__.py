from tenure.entrypoints.cli import main

main()
