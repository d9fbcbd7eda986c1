from seqkit._cli.main import main

main()
