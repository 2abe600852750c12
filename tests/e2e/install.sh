#!/usr/bin/env bash
# The installed program: `make install` to a temporary prefix (and with DESTDIR), then run from / with nothing
# but what was installed — a letter, a booklet, the manual page, --version; and the configuration's search order
# (/etc/vipgen, then $XDG_CONFIG_HOME, then --config), seen in the force name each one sets.
. "$(dirname "$0")/lib.sh"
build=$(dirname "$vipgen")
prefix="$tmp/prefix"
make -s install BUILD="$build" PREFIX="$prefix" >"$tmp/make.log" 2>&1
rc=$?
check install.make_install "[ $rc -eq 0 ] && [ -x '$prefix/bin/vipgen' ]" "$(tail -n 5 "$tmp/make.log")"
for f in share/vipgen/templates/letter.xml share/vipgen/templates/booklet.xml share/vipgen/templates/template.rng \
         share/vipgen/templates/logo.png share/vipgen/translations/ur.xlf share/vipgen/fonts/manifest \
         share/man/man1/vipgen.1 share/doc/vipgen/LICENSE share/doc/vipgen/README.md \
         share/doc/vipgen/examples/cases.csv share/doc/vipgen/examples/northshire.conf; do
    check "install.file.$f" "[ -s '$prefix/$f' ]" "missing"
done
check install.man_page "MANWIDTH=80 man -l '$prefix/share/man/man1/vipgen.1' 2>/dev/null | grep -q 'vipgen - letters and booklets'" "man -l failed"

# From /, with an empty environment apart from PATH and HOME (no VIPGEN_* variables), and no source tree in sight.
run_installed() { (cd / && env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$@"); }
mkdir -p "$tmp/home" "$tmp/run"
run_installed "$prefix/bin/vipgen" --version >"$tmp/version" 2>&1
check install.version "grep -q '^vipgen [0-9][0-9.]*$' '$tmp/version' && grep -q '$prefix/bin/../share/vipgen' '$tmp/version'" "$(cat "$tmp/version")"
run_installed "$prefix/bin/vipgen" booklet --lang ur -o "$tmp/run/booklet-ur.pdf" 2>"$tmp/err"
check install.booklet_from_root "qpdf --check '$tmp/run/booklet-ur.pdf' >/dev/null 2>&1" "$(cat "$tmp/err")"
check install.producer_version "pdfinfo '$tmp/run/booklet-ur.pdf' | grep -q 'Producer: *vipgen [0-9]'" "$(pdfinfo "$tmp/run/booklet-ur.pdf" 2>&1 | grep Producer)"
run_installed "$prefix/bin/vipgen" letter "$prefix/share/doc/vipgen/examples/cases.csv" -o "$tmp/run/letters" \
    --ref NC/2024/012350 2>"$tmp/err"
check install.letter_from_root "[ -s '$tmp/run/letters/NC-2024-012350_ur.pdf' ]" "$(cat "$tmp/err")"
check install.letter_private "[ \$(stat -c %a '$tmp/run/letters/NC-2024-012350_ur.pdf') = 600 ]" \
    "mode $(stat -c %a "$tmp/run/letters/NC-2024-012350_ur.pdf" 2>/dev/null)"

# Staged for a package (DESTDIR), the tree still works where it lands: data is found beside bin/.
make -s install BUILD="$build" PREFIX=/usr DESTDIR="$tmp/stage" >"$tmp/make.log" 2>&1
run_installed "$tmp/stage/usr/bin/vipgen" booklet --lang en -o "$tmp/run/booklet-en.pdf" 2>"$tmp/err"
check install.destdir "[ -s '$tmp/stage/usr/share/vipgen/fonts/manifest' ] && qpdf --check '$tmp/run/booklet-en.pdf' >/dev/null 2>&1" \
    "$(cat "$tmp/err") $(tail -n 3 "$tmp/make.log")"

# Without data anywhere: one clear error saying where it looked.
mkdir -p "$tmp/lonely/bin"
cp "$prefix/bin/vipgen" "$tmp/lonely/bin/"
(cd "$tmp" && env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$tmp/lonely/bin/vipgen" booklet --lang en -o "$tmp/x.pdf") 2>"$tmp/err"
rc=$?
builtin=$("$tmp/lonely/bin/vipgen" --version | sed -n 's/^data looked for in: [^ ]* [^ ]* \([^ ]*\) .*/\1/p')
if [ -d "$builtin" ]; then
    echo "INFO install.no_data skipped: the data directory the program was built for, $builtin, exists"
else
    check install.no_data "[ $rc -eq 4 ] && grep -q \"cannot find vipgen's templates\" '$tmp/err' && grep -q 'make install' '$tmp/err'" "exit $rc: $(cat "$tmp/err")"
fi

# The configuration's search order: the system file, then the user's, then --config; each overrides the one
# before, and the others' keys stay. The force name is printed in the booklet's letterhead.
mkdir -p "$tmp/etc" "$tmp/xdg/vipgen"
printf '[force]\nname = System Constabulary\nwebsite = www.system.example\n' >"$tmp/etc/vipgen.conf"
printf '[force]\nname = User Constabulary\n' >"$tmp/xdg/vipgen/vipgen.conf"
printf '[force]\nname = Explicit Constabulary\n' >"$tmp/explicit.conf"
booklet_text() { # output, then extra arguments
    local out=$1
    shift
    (cd / && env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$@" "$prefix/bin/vipgen" booklet --lang en -o "$out" 2>"$tmp/err")
    pdftotext -l 1 "$out" - 2>/dev/null | tr '\n' ' '
}
t=$(booklet_text "$tmp/c1.pdf" VIPGEN_SYSCONFDIR="$tmp/etc")
check install.config_system "printf '%s' \"\$t\" | grep -q 'System Constabulary'" "$(cat "$tmp/err") $(printf '%s' "$t" | head -c 200)"
t=$(booklet_text "$tmp/c2.pdf" VIPGEN_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg")
check install.config_user_over_system "printf '%s' \"\$t\" | grep -q 'User Constabulary' && printf '%s' \"\$t\" | grep -q 'www.system.example'" \
    "$(cat "$tmp/err") $(printf '%s' "$t" | head -c 200)"
(cd / && env -i PATH=/usr/bin:/bin HOME="$tmp/home" VIPGEN_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg" \
    "$prefix/bin/vipgen" booklet --lang en -o "$tmp/c3.pdf" --config "$tmp/explicit.conf" 2>"$tmp/err")
t=$(pdftotext -l 1 "$tmp/c3.pdf" - 2>/dev/null | tr '\n' ' ')
check install.config_explicit_last "printf '%s' \"\$t\" | grep -q 'Explicit Constabulary' && ! printf '%s' \"\$t\" | grep -q 'User Constabulary'" \
    "$(cat "$tmp/err") $(printf '%s' "$t" | head -c 200)"
# The paths in a configuration are taken from its own folder; an environment variable beats it, an option beats both.
mkdir -p "$tmp/cfgdir"
cp -r "$prefix/share/vipgen/templates" "$tmp/cfgdir/tpl"
sed -i 's/<param name="force_name" value="Northshire Police"\/>/<param name="force_name" value="Templates from the configuration"\/>/' "$tmp/cfgdir/tpl/booklet.xml"
printf '[paths]\ntemplates = tpl\n' >"$tmp/cfgdir/paths.conf"
(cd / && env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$prefix/bin/vipgen" booklet --lang en -o "$tmp/c4.pdf" \
    --config "$tmp/cfgdir/paths.conf" 2>"$tmp/err")
check install.config_paths_relative "pdftotext -l 1 '$tmp/c4.pdf' - 2>/dev/null | grep -q 'Templates from the configuration'" "$(cat "$tmp/err")"
(cd / && env -i PATH=/usr/bin:/bin HOME="$tmp/home" VIPGEN_TEMPLATES="$prefix/share/vipgen/templates" \
    "$prefix/bin/vipgen" booklet --lang en -o "$tmp/c5.pdf" --config "$tmp/cfgdir/paths.conf" 2>"$tmp/err")
check install.env_over_config "! pdftotext -l 1 '$tmp/c5.pdf' - 2>/dev/null | grep -q 'Templates from the configuration'" "$(cat "$tmp/err")"
(cd / && env -i PATH=/usr/bin:/bin HOME="$tmp/home" VIPGEN_TEMPLATES="$prefix/share/vipgen/templates" \
    "$prefix/bin/vipgen" booklet --lang en -o "$tmp/c6.pdf" --config "$tmp/cfgdir/paths.conf" --templates "$tmp/cfgdir/tpl" 2>"$tmp/err")
check install.option_over_env "pdftotext -l 1 '$tmp/c6.pdf' - 2>/dev/null | grep -q 'Templates from the configuration'" "$(cat "$tmp/err")"

# The force's logo from its configuration replaces the template's, in letters and booklets; a logo that is not a
# PNG is refused before anything is produced.
pdftoppm -png -r 8 -f 1 -l 1 "$tmp/run/booklet-en.pdf" "$tmp/crest"
crest=$(ls "$tmp"/crest*.png | head -n 1)
size=$(file "$crest" | sed -n 's/.*PNG image data, \([0-9]*\) x \([0-9]*\).*/\1 \2/p')
printf '[force]\nname = Crest Constabulary\nlogo = %s\n' "$crest" >"$tmp/logo.conf"
(cd / && env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$prefix/bin/vipgen" letter "$prefix/share/doc/vipgen/examples/cases.csv" \
    -o "$tmp/logo" --ref NC/2024/012345 --config "$tmp/logo.conf" 2>"$tmp/err")
check install.config_logo "pdfimages -list '$tmp/logo/NC-2024-012345_en.pdf' 2>/dev/null | awk 'NR > 2 { print \$4, \$5 }' | grep -qx '$size'" \
    "want $size: $(pdfimages -list "$tmp/logo/NC-2024-012345_en.pdf" 2>&1 | tail -n +3) $(cat "$tmp/err")"
printf '[force]\nlogo = %s\n' "$prefix/share/doc/vipgen/README.md" >"$tmp/badlogo.conf"
(cd / && env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$prefix/bin/vipgen" booklet --lang en -o "$tmp/badlogo.pdf" --config "$tmp/badlogo.conf" 2>"$tmp/err")
rc=$?
check install.config_logo_not_png "[ $rc -eq 1 ] && grep -q 'logo' '$tmp/err' && [ ! -e '$tmp/badlogo.pdf' ]" "exit $rc: $(cat "$tmp/err")"
