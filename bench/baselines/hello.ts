// The cold-start baseline for a client command: a compiled program that prints one line.
process.stdout.write("hello world\n");
