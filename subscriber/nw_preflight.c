#include "nw_preflight.h"

#include "nw_error.h"
#include "nw_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_PATH_MAX 4096

/* Writes the folder part of path into dir ("." for a bare name). */
static void s_folder(const char *path, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, cap, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
}

/* Checks that the folder of path exists and is a folder. */
static int s_check_folder(const char *flag, const char *path, char *err, size_t errlen)
{
    char dir[S_PATH_MAX];
    struct stat st;
    s_folder(path, dir, sizeof dir);
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "%s %s: folder %s %s", flag, path, dir,
                 errno == ENOENT ? "does not exist" : strerror(errno));
        return NW_ERR_INVAL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: %s is not a folder", flag, path, dir);
        return NW_ERR_INVAL;
    }
    return NW_OK;
}

/* Fails when path exists and is a folder. */
static int s_not_a_folder(const char *flag, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: is a folder, not a file", flag, path);
        return NW_ERR_INVAL;
    }
    return NW_OK;
}

int nw_preflight_state(const char *flag, const char *path, char *err, size_t errlen)
{
    char tmp[S_PATH_MAX];
    int rc = s_check_folder(flag, path, err, errlen);
    if (rc == NW_OK)
        rc = s_not_a_folder(flag, path, err, errlen);
    if (rc != NW_OK)
        return rc;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        snprintf(err, errlen, "%s %s: path too long", flag, path);
        return NW_ERR_INVAL;
    }
    /* The very step every save starts with: a folder that refuses it makes --state useless
     * (a leftover path.tmp is removed by the state's own load anyway). */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: cannot create files in its folder: %s", flag, path,
                 strerror(errno));
        return NW_ERR_INVAL;
    }
    close(fd);
    unlink(tmp);
    return NW_OK;
}

int nw_preflight_append(const char *flag, const char *path, char *err, size_t errlen)
{
    int rc = s_check_folder(flag, path, err, errlen);
    if (rc == NW_OK)
        rc = s_not_a_folder(flag, path, err, errlen);
    if (rc != NW_OK)
        return rc;
    /* Opened the way the log is (created if missing, which the log would do next anyway);
     * asking access(2) is not enough: it says yes to root on a folder that refuses files. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: cannot write it: %s", flag, path, strerror(errno));
        return NW_ERR_INVAL;
    }
    close(fd);
    return NW_OK;
}

/* True when path is a regular file this process may execute. */
static bool s_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Looks name up in $PATH (execvp's rule; an empty entry is the current folder). */
static bool s_in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char full[S_PATH_MAX];
        int len = n > 0 ? snprintf(full, sizeof full, "%.*s/%s", (int)n, p, name)
                        : snprintf(full, sizeof full, "./%s", name);
        if (len > 0 && (size_t)len < sizeof full && s_executable(full))
            return true;
        if (end == NULL)
            return false;
        p = end;
    }
}

int nw_preflight_command(const char *flag, const char *cmd, char *err, size_t errlen)
{
    char **argv = NULL;
    int rc = nw_exec_split(cmd, &argv, err, errlen);
    if (rc != NW_OK)
        return rc;
    const char *prog = argv[0];
    bool ok = strchr(prog, '/') != NULL ? s_executable(prog) : s_in_path(prog);
    if (!ok) {
        snprintf(err, errlen, "%s: '%s' is not an executable file%s", flag, prog,
                 strchr(prog, '/') != NULL ? "" : " in $PATH");
        rc = NW_ERR_INVAL;
    }
    nw_exec_argv_free(argv);
    return rc;
}

int nw_preflight_subscriber(const char *state_path, const char *log_path, const char *exec_cmd,
                            char *err, size_t errlen)
{
    int rc = NW_OK;
    if (state_path != NULL)
        rc = nw_preflight_state("--state", state_path, err, errlen);
    if (rc == NW_OK && log_path != NULL)
        rc = nw_preflight_append("--log", log_path, err, errlen);
    if (rc == NW_OK && exec_cmd != NULL)
        rc = nw_preflight_command("--exec", exec_cmd, err, errlen);
    return rc;
}
