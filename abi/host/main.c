/*
 * main.c -- pilot-transport, the reference host: loads a transport plugin
 * by mode at run time and uses it the way the Pilot daemon uses its
 * transport.  Plugins are reached only through the public headers and the
 * loader; the commands also use the internal helpers of lib/ (parsing,
 * addresses, identity files, Pilot packets).
 */
#include "config.h"

#include "host.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    { "keygen", cmd_keygen, "write a new identity file and print its public key" },
    { "probe", cmd_probe, "dial once and print the local address and dial time" },
    { "echo", cmd_echo, "send every datagram back to where it came from" },
    { "echo-bench", cmd_echo_bench, "measure throughput and round trips against an echo peer" },
    { "plugins", cmd_plugins, "list the transport plugins found and their versions" },
    { "relay", cmd_relay, "exchange Pilot packets with a node through the beacon" },
    { "select", cmd_select, "print what -transport=auto would choose, and why" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: " PROG " COMMAND [flags]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun \"" PROG " COMMAND -h\" for a command's flags.  Flags are written\n"
                 "-flag=value or -flag value (--flag works too).\n"
                 "Plugins are found in -transport-dir, $PILOT_TRANSPORT_DIR, then %s.\n",
            pt_loader_default_dir());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "-help") || !strcmp(cmd, "--help") ||
        !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "-version") || !strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf(PROG " %s (transport ABI %d.%d)\n", PACKAGE_VERSION, PT_ABI_MAJOR, PT_ABI_MINOR);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, PROG ": unknown command \"%s\"\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
