/* cmdline.c -- a command line split into words without a shell. */
#include "config.h"

#include "cmdline.h"

#include <string.h>

int ptu_cmdline_split(const char *s, char *buf, size_t cap, char **argv, size_t max,
                      size_t *argc, const char **why)
{
    size_t n = 0, out = 0;

    *argc = 0;
    if (max > 0)
        argv[0] = NULL;
    if (strlen(s) >= cap) {
        *why = "it is too long";
        return -1;
    }
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (n + 1 >= max) { /* room for this word and the NULL */
            *why = "it has too many words";
            return -1;
        }
        argv[n++] = buf + out;
        /* One word: up to an unquoted space, tab or the end. */
        while (*s && *s != ' ' && *s != '\t') {
            char c = *s++;
            if (c == '\'') {
                const char *end = strchr(s, '\'');
                if (!end) {
                    *why = "a single quote is not closed";
                    return -1;
                }
                memcpy(buf + out, s, (size_t)(end - s));
                out += (size_t)(end - s);
                s = end + 1;
            } else if (c == '"') {
                while (*s && *s != '"') {
                    if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                        s++;
                    buf[out++] = *s++;
                }
                if (!*s) {
                    *why = "a double quote is not closed";
                    return -1;
                }
                s++;
            } else if (c == '\\') {
                if (!*s) {
                    *why = "it ends in a backslash";
                    return -1;
                }
                buf[out++] = *s++;
            } else if (strchr("|&;<>()$`", c)) {
                *why = "it holds a shell operator (| & ; < > ( ) $ `) outside quotes; no "
                       "shell runs it: name one, e.g. sh -c '...'";
                return -1;
            } else {
                buf[out++] = c;
            }
        }
        buf[out++] = '\0';
    }
    if (n == 0) {
        *why = "it is empty";
        return -1;
    }
    argv[n] = NULL;
    *argc = n;
    return 0;
}
