/* hello: prints a greeting, read from the greeting-data package, to NAME
 * (default "world"), then its own name and version. The message is staged
 * through tmpfile(3), as a program that spools its output does, so it needs
 * a writable /tmp in the container. Built by ../example.nix with
 * -DGREETING_FILE and -DVERSION. HELLO_GREETING_FILE overrides the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GREETING_FILE
#error "build with -DGREETING_FILE=\"/nix/store/...\""
#endif
#ifndef VERSION
#error "build with -DVERSION=\"x.y\""
#endif

static int fail(const char *what, const char *arg) {
	fprintf(stderr, "hello: %s %s\n", what, arg);
	return 1;
}

int main(int argc, char **argv) {
	const char *name = argc > 1 ? argv[1] : "world";
	const char *path = getenv("HELLO_GREETING_FILE");
	if (path == NULL || *path == '\0')
		path = GREETING_FILE;

	char greeting[256];
	FILE *in = fopen(path, "r");
	if (in == NULL)
		return fail("cannot open the greeting file", path);
	if (fgets(greeting, sizeof greeting, in) == NULL)
		return fail("cannot read the greeting file", path);
	fclose(in);
	greeting[strcspn(greeting, "\n")] = '\0';

	FILE *spool = tmpfile();
	if (spool == NULL)
		return fail("cannot create a temporary file in", "/tmp");
	fprintf(spool, "%s, %s!\nhello " VERSION "\n", greeting, name);
	rewind(spool);
	char line[512];
	while (fgets(line, sizeof line, spool) != NULL)
		fputs(line, stdout);
	fclose(spool);
	return fflush(stdout) == 0 ? 0 : 1;
}
