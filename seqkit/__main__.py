from seqkit.cli.main import main

main()
