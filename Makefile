# ciq - a dynamic test queue for CI, as small Unix tools.
#
#   make              build bin/ciq-* (and man pages when scdoc is present)
#   make check        build, then run the test suite twice: plain, and under
#                     AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo         a real run with ciq-run: private Redis, 4 loops, a report
#   make install      PREFIX=/usr/local DESTDIR=
#   make LINK=dynamic every tool linked dynamically against the system's
#                     hiredis, OpenSSL and libcurl: for distribution packages
#   make deps         install missing Debian packages (as root)
#   make stress       16 workers, 5000 ids, random SIGKILLs, a server restart
#   make fuzz         the libFuzzer harnesses, FUZZ_SECONDS each
#   make bench        the benchmarks B1-B10 (bench/RESULTS.md)

VERSION  = 0.1.0
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man

CC      ?= cc
OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
           -Wwrite-strings -Wformat=2 -Wshadow -Wpointer-arith -Wvla \
           -Wno-format-truncation
USE_WERROR ?= 1
ifeq ($(USE_WERROR),1)
WARN    += -Werror
endif
PKGS     = hiredis libcurl openssl
CPPFLAGS += -D_GNU_SOURCE -DCIQ_VERSION='"$(VERSION)"' -Ilib -I$(OUT)
CFLAGS  ?= $(OPT)
CFLAGS  += -std=c11 $(WARN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

# How the tools are linked (ciq(7), "Static and dynamic builds"):
#
# LINK=static (the default): every tool but ciq-report is a static PIE,
# with hiredis and OpenSSL linked in: no dynamic loader runs, so a tool
# starts in about half the time of a dynamic one (bench B1), and every
# tool speaks TLS. ciq-report links libcurl, so it stays dynamic. Host
# names are looked up in the sources built into libc, files and dns.
#
# LINK=dynamic: every tool is dynamic, against the system's shared
# libraries: what a distribution package wants.
LINK    ?= static
LDFLAGS += -Wl,--as-needed
LDLIBS   = $(shell pkg-config --libs hiredis openssl 2>/dev/null || echo -lhiredis -lssl -lcrypto) -lz
CURLLIBS = $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

# SAN=1 builds a sanitized copy into build-san/ and bin-san/.
ifeq ($(SAN),1)
OUT      = build-san
BIN      = bin-san
CFLAGS  += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
# The sanitizers need the dynamic loader.
LINK     = dynamic
else
OUT      = build
BIN      = bin
endif

TOOLS    = ciq-populate ciq-pop ciq-ack ciq-requeue ciq-release ciq-report ciq-env ciq-bisect \
           ciq-loop
# The tools written in sh, copied into bin/ (and bin-san/) beside the others.
SHTOOLS  = ciq-run ciq-worker.sh
SCRIPTS  = elect publish join pop ack next requeue release status retry heartbeat timing seen prune acl
LIBSRC   = $(wildcard lib/*.c)
LIBOBJ   = $(LIBSRC:lib/%.c=$(OUT)/lib/%.o)
LUAHDR   = $(SCRIPTS:%=$(OUT)/lua/%.h)
PROGS    = $(TOOLS:%=$(BIN)/%)
SHPROGS  = $(SHTOOLS:%=$(BIN)/%)
# The static tools.
STATIC   = $(if $(filter static,$(LINK)),$(filter-out ciq-report,$(TOOLS)))
MANSRC   = $(wildcard man/*.scd)
MANPAGES = $(MANSRC:.scd=)
HAVE_SCDOC := $(shell command -v scdoc 2>/dev/null)

all: $(PROGS) $(SHPROGS) tests/exit_codes.bash $(if $(HAVE_SCDOC),man)

man: $(MANPAGES)

# The tools are linked again when LINK changes: they depend on a file
# that holds it, written only when it differs.
LINKED   = $(OUT)/linked
$(shell mkdir -p $(OUT) && [ "$$(cat $(LINKED) 2>/dev/null)" = "$(LINK)" ] || echo "$(LINK)" > $(LINKED))

$(BIN)/%: $(OUT)/cmd/%.o $(OUT)/cmd/tool.o $(OUT)/libciq.a $(LINKED)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# The tools that hand out tests share take.c; those that record results,
# record.c.
$(BIN)/ciq-pop $(BIN)/ciq-ack $(BIN)/ciq-loop: $(OUT)/cmd/take.o
$(BIN)/ciq-ack $(BIN)/ciq-requeue $(BIN)/ciq-loop: $(OUT)/cmd/record.o

$(BIN)/ciq-report: LDLIBS += $(CURLLIBS)

# ld warns that getaddrinfo(), gethostbyname() and dlopen() (OpenSSL's,
# for modules ciq never asks for) in a static program need glibc's shared
# libraries at run time (ciq(7) says what that means): those warnings, and
# the line before each that names its function, are dropped; any other
# is shown.
STATIC_LD_QUIET = awk '/: in function / { held = $$0; next } \
	/in statically linked applications requires at runtime/ { held = ""; next } \
	{ if (held != "") print held; held = ""; print } END { if (held != "") print held }'
$(STATIC:%=$(BIN)/%): $(BIN)/%: $(OUT)/cmd/%.o $(OUT)/cmd/tool.o $(OUT)/libciq.a $(LINKED)
	@mkdir -p $(@D)
	$(CC) -static-pie $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) -lhiredis -lssl -lcrypto -lz 2>$@.ld; s=$$?; \
	  $(STATIC_LD_QUIET) $@.ld >&2; rm -f $@.ld; exit $$s

$(BIN)/ciq-run: cmd/ciq-run.sh
$(BIN)/ciq-worker.sh: ci-templates/ciq-worker.sh
$(SHPROGS):
	@mkdir -p $(@D)
	cp $< $@.tmp && chmod 755 $@.tmp && mv $@.tmp $@

$(OUT)/libciq.a: $(LIBOBJ)
	$(AR) rcs $@ $^

$(OUT)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# script.c embeds every script, and the list of the commands they run; the
# headers are rebuilt when a .lua changes.
$(OUT)/lib/script.o: $(LUAHDR) $(OUT)/lua/commands.h
$(OUT)/lua/commands.h: $(SCRIPTS:%=lua/%.lua) lua/fast.lua lua/prelude.lua lua/commands.sh
	@mkdir -p $(@D)
	sh lua/commands.sh $(filter %.lua,$^) > $@.tmp && mv $@.tmp $@
$(OUT)/lua/%.h: lua/%.lua lua/prelude.lua lua/embed.sh
	@mkdir -p $(@D)
	sh lua/embed.sh $* lua/prelude.lua $< > $@.tmp && mv $@.tmp $@
# next.lua is ack.lua, then pop.lua, in one call; fast.lua its common case.
$(OUT)/lua/next.h: lua/next.lua lua/ack.lua lua/pop.lua lua/fast.lua lua/prelude.lua lua/embed.sh
	@mkdir -p $(@D)
	sh lua/embed.sh next lua/prelude.lua lua/next.lua lua/fast.lua lua/ack.lua lua/pop.lua > $@.tmp && mv $@.tmp $@

# The tests name exit codes; their names come from the one header.
tests/exit_codes.bash: lib/exit.h
	sed -n 's/^#define \(CIQ_EX_[A-Z]*\) *\([0-9]*\).*/\1=\2/p' $< > $@.tmp && mv $@.tmp $@

man/%: man/%.scd
	scdoc < $< > $@

check: deps
	$(MAKE) all $(OUT)/unit
	$(MAKE) SAN=1 $(TOOLS:%=bin-san/%) $(SHTOOLS:%=bin-san/%) build-san/unit
	sh tests/run.sh bin bin-san

# The unit tests of the library's pure functions (tests/unit/), against
# libciq.a: build/unit and build-san/unit. tests/run.sh runs each before
# the bats suites of its build; `make unit` builds and runs both alone.
UNITSRC  = $(wildcard tests/unit/*.c)
$(OUT)/unit: $(UNITSRC) tests/unit/unit.h $(OUT)/libciq.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(UNITSRC) $(OUT)/libciq.a $(LDLIBS)

unit:
	$(MAKE) $(OUT)/unit
	$(MAKE) SAN=1 build-san/unit
	build/unit && build-san/unit

.PHONY: unit

# libFuzzer harnesses (tests/fuzz/), built with clang into build-fuzz/;
# each runs FUZZ_SECONDS on a temporary copy of its seed corpus.
FUZZ_SECONDS ?= 20
fuzz:
	sh tests/fuzz/run.sh fuzz $(FUZZ_SECONDS)

stress: all
	bash tests/stress.sh 16 5000 20

# the benchmarks B1-B10 (bench/RESULTS.md), about 6 minutes
bench: all
	sh bench/run.sh

demo: deps
	$(MAKE) all
	sh tests/demo.sh

deps:
	sh tests/deps.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR)
	cp $(PROGS) $(SHPROGS) $(DESTDIR)$(BINDIR)/
	if [ -n "$(HAVE_SCDOC)" ]; then \
	  mkdir -p $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7; \
	  for m in $(MANPAGES); do \
	    s=$${m##*.}; cp $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	  done; \
	fi

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(SHTOOLS:%=$(DESTDIR)$(BINDIR)/%)
	for m in $(notdir $(MANPAGES)); do \
	  rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; \
	done

clean:
	rm -rf build build-san build-fuzz bin bin-san $(MANPAGES) tests/exit_codes.bash

.PHONY: all man check fuzz stress bench demo deps install uninstall clean

-include $(LIBOBJ:.o=.d) $(TOOLS:%=$(OUT)/cmd/%.d) $(OUT)/cmd/tool.d $(OUT)/cmd/take.d $(OUT)/cmd/record.d
