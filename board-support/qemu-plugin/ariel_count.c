/*
 * ariel_count: a QEMU TCG plugin that counts executed guest instructions per vCPU and attributes
 * them to the op the firmware marked last.
 *
 * Arguments (-plugin libariel_count.so,out=FILE[,marks=ADDR,nmarks=N,ncores=C,mark_fn=LO,mark_fn_end=HI]):
 *   out          file written at exit: "total VCPU COUNT" and "mark VCPU MARK COUNT" lines
 *   marks/nmarks/ncores  the firmware's marker arrays: C (default 1, one per core) arrays of N
 *                bytes at ADDR; a store to byte MARK of any of them starts region MARK on the
 *                storing vCPU
 *   mark_fn/_end address range of the firmware function doing those stores (only its
 *                instructions are watched, so the rest of the program runs at full speed)
 * Every vCPU starts in region 0. Counts are per translated block: a block's instructions go to
 * the region current when the block starts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

ARIEL_PLUGIN_EXPORT int qemu_plugin_version = ARIEL_PLUGIN_API_VERSION;

#define MAX_MARKS 65536

static const char *out_path;
static uint64_t marks_base, mark_fn_lo, mark_fn_hi;
static uint64_t n_marks = 1;
static uint64_t n_arrays = 1;
static int n_vcpus;
static uint64_t *counts;  /* [vcpu][mark] */
static uint32_t *current; /* [vcpu] */

static void on_block(unsigned int vcpu, void *n_insns)
{
    counts[(uint64_t)vcpu * n_marks + current[vcpu]] += (uintptr_t)n_insns;
}

static void on_mark_store(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *unused)
{
    (void)info;
    (void)unused;
    if (vaddr >= marks_base && vaddr - marks_base < n_marks * n_arrays) {
        current[vcpu] = (uint32_t)((vaddr - marks_base) % n_marks);
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
    if (mark_fn_hi <= mark_fn_lo) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        if (pc >= mark_fn_lo && pc < mark_fn_hi) {
            qemu_plugin_register_vcpu_mem_cb(insn, on_mark_store, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_W,
                                             NULL);
        }
    }
}

static void write_counts(qemu_plugin_id_t id, void *unused)
{
    (void)id;
    (void)unused;
    FILE *f = fopen(out_path, "w");
    if (f == NULL) {
        qemu_plugin_outs("ariel_count: cannot write the output file\n");
        return;
    }
    for (int v = 0; v < n_vcpus; v++) {
        uint64_t total = 0;
        for (uint64_t m = 0; m < n_marks; m++) {
            uint64_t c = counts[(uint64_t)v * n_marks + m];
            total += c;
            if (c != 0) {
                fprintf(f, "mark %d %" PRIu64 " %" PRIu64 "\n", v, m, c);
            }
        }
        fprintf(f, "total %d %" PRIu64 "\n", v, total);
    }
    fclose(f);
}

static int parse_u64(const char *text, uint64_t *value)
{
    char *end;
    *value = strtoull(text, &end, 0);
    return *text != '\0' && *end == '\0';
}

ARIEL_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        if (eq == NULL) {
            fprintf(stderr, "ariel_count: argument '%s' is not KEY=VALUE\n", arg);
            return 1;
        }
        size_t key_len = (size_t)(eq - arg);
        const char *value = eq + 1;
        int ok = 1;
        if (key_len == 3 && strncmp(arg, "out", 3) == 0) {
            out_path = value;
        } else if (key_len == 5 && strncmp(arg, "marks", 5) == 0) {
            ok = parse_u64(value, &marks_base);
        } else if (key_len == 6 && strncmp(arg, "nmarks", 6) == 0) {
            ok = parse_u64(value, &n_marks) && n_marks >= 1 && n_marks <= MAX_MARKS;
        } else if (key_len == 6 && strncmp(arg, "ncores", 6) == 0) {
            ok = parse_u64(value, &n_arrays) && n_arrays >= 1 && n_arrays <= 64;
        } else if (key_len == 7 && strncmp(arg, "mark_fn", 7) == 0) {
            ok = parse_u64(value, &mark_fn_lo);
        } else if (key_len == 11 && strncmp(arg, "mark_fn_end", 11) == 0) {
            ok = parse_u64(value, &mark_fn_hi);
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "ariel_count: bad argument '%s'\n", arg);
            return 1;
        }
    }
    if (out_path == NULL) {
        fprintf(stderr, "ariel_count: missing out=FILE\n");
        return 1;
    }
    n_vcpus = info->system_emulation ? info->system.max_vcpus : 1;
    counts = calloc((size_t)n_vcpus * n_marks, sizeof *counts);
    current = calloc((size_t)n_vcpus, sizeof *current);
    if (counts == NULL || current == NULL) {
        return 1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_counts, NULL);
    return 0;
}
