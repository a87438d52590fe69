# journal.tcl -- "Journal", a Tk fixture application for vagt's tests.
#
# It stands in for an in-house legacy municipal client for case notes
# (Danish UI).  Start it through the launcher next to this file:
#
#   vagt-tk-journal --log FILE [--variant NAME] [--geometry +X+Y]
#                   [--option PATTERN=VALUE]... [--delay-popup MS]
#
# which runs `wish journal.tcl -name journal -- ARGS`, so the main window's
# WM_CLASS is "journal", "Journal".
#
# Arguments
#   --log FILE          required.  One UTF-8 line is appended per action, and
#                       flushed at once.
#   --variant NAME      a "vendor update" of the UI (default: none).
#   --geometry +X+Y     position of the main window (default +0+0).  The main
#                       window (Tk's wrapper, menu bar included) is always
#                       480x360 and not resizable.
#   --option PAT=VALUE  repeatable; `option add PAT VALUE` (priority
#                       interactive) before any widget is created, e.g.
#                       --option '*Label.font=Helvetica 14'
#                       --option '*antal.background=yellow'
#   --delay-popup MS    the Filer/Rediger menus and the Sagstype list are
#                       posted MS milliseconds late (the application is busy,
#                       i.e. does not process events, for that time).
#
# Variants (everything not named stays identical, pixel for pixel)
#   none               the normal UI
#   menu-swapped       Filer: "Gem journal" and "Slet alle notater" swap places
#                      (each label keeps its own command)
#   menu-renamed       Filer: "Gem journal" reads "Gem journalen"
#   menu-inserted      Filer: new entry "Eksportér" before "Gem journal"
#   dialog             ~300 ms after start a modal dialog (class Nyheder, title
#                      "Nyheder i version 2.0", transient to the main window,
#                      placed over it) with an OK button
#   dialog-typing      the first key typed into Navn opens the dialog of variant
#                      "dialog" ~15 ms later (the application checks the name
#                      as it is typed); the keys after it go to the dialog
#   dialog-click       the dialog of variant "dialog" opens 300 ms after the
#                      first mouse click into CPR-nummer
#   completion         the first key typed into Navn shows a hint pop-up
#                      (override-redirect, class Forslag, 110x40 right of the
#                      field, "Forslag: ingen"); it keeps no focus and closes
#                      when Navn loses the focus
#   combo-renamed      Sagstype value "Klage" reads "Klagesag"
#   combo-inserted     Sagstype list gets a new first value "Anke"
#   label-renamed      the label "Navn" reads "Fulde navn"
#   button-moved       the buttons "Gem" and "Annuller" swap places
#   counter-relabeled  the button "+1" reads "Læg til"
#   confirm-save       Filer > Gem journal first asks "Gem journalen?" in a dialog
#                      (class Bekraeft, transient to the main window) with Ja and
#                      Nej; "menu gem" is logged only after Ja (logs "bekræft vist")
#
# Log lines (one per action)
#   start variant=NAME        the main window is mapped and drawn
#   menu ny                   Filer > Ny note (also clears the form)
#   menu gem                  Filer > Gem journal
#   menu slet                 Filer > Slet alle notater (clears form, counter)
#   menu eksport              Filer > Eksportér (variant menu-inserted)
#   menu afslut               Filer > Afslut, then the application exits 0
#   menu kopier               Rediger > Kopiér
#   menu indsaet              Rediger > Indsæt
#   sagstype VALUE            a value was chosen in the Sagstype list
#   gem cpr=C|navn=N|sagstype=T|note=B
#                             button Gem: the fields' exact contents; the form
#                             is then cleared
#   annuller                  button Annuller; the form is cleared
#   plus N                    button "+1": N is the counter's new value
#   nulstil                   button Nulstil: the counter is back at 0
#   forslag vist              (variant completion) the hint pop-up is mapped
#   nyheder vist              (variants dialog, dialog-*) the dialog is mapped
#   nyheder ok                (variants dialog, dialog-*) its OK button; it
#                             closes
#
# Keys and focus: Alt+F / Alt+R (or F10) post the menus; menu entries have
# underlined mnemonics (Ny note N, Gem journal G, Slet alle notater S,
# Afslut A, Eksportér E, Kopiér K, Indsæt I).  Clicking a field takes the X
# input focus (also without a window manager) and keeps it when the pointer
# leaves the window.  The dialog of variant "dialog" grabs the application
# (clicks on the main window do nothing) and OK has the focus (Return = OK).
#
# Exit status: 0 on Afslut or when the window is closed, 2 on a usage error,
# 4 when the log file cannot be opened.
#
# Determinism: no clock or other time-dependent text, no animation; the text
# cursor of the entries does not blink; fonts have fixed pixel sizes
# (tk scaling is pinned to 96 dpi, whatever the display says).

package require Tk 8.6

proc usage {msg} {
    puts stderr "vagt-tk-journal: $msg"
    puts stderr "usage: vagt-tk-journal --log FILE \[--variant NAME\]\
        \[--geometry +X+Y\] \[--option PATTERN=VALUE\]... \[--delay-popup MS\]"
    exit 2
}

# ---------------------------------------------------------------- arguments
set variants {none menu-swapped menu-renamed menu-inserted dialog
    dialog-typing dialog-click completion combo-renamed combo-inserted label-renamed button-moved
    counter-relabeled confirm-save}

set logFile ""
set variant none
set geom +0+0
set userOptions {}
set popupDelay 0

set args $argv
if {[lindex $args 0] eq "--"} { set args [lrange $args 1 end] }
while {[llength $args] > 0} {
    set args [lassign $args opt]
    if {$opt in {--help -h}} { usage "help" }
    if {$opt ni {--log --variant --geometry --option --delay-popup}} {
        usage "unknown argument: $opt"
    }
    if {[llength $args] == 0} { usage "$opt needs a value" }
    set args [lassign $args val]
    switch -- $opt {
        --log      { set logFile $val }
        --variant  {
            if {$val ni $variants} {
                usage "unknown variant '$val' (known: [join $variants {, }])"
            }
            set variant $val
        }
        --geometry {
            if {![regexp {^[+-][0-9]+[+-][0-9]+$} $val]} {
                usage "--geometry wants +X+Y, not '$val'"
            }
            set geom $val
        }
        --option {
            set eq [string first = $val]
            if {$eq < 1} { usage "--option wants PATTERN=VALUE, not '$val'" }
            lappend userOptions [string range $val 0 [expr {$eq - 1}]] \
                [string range $val [expr {$eq + 1}] end]
        }
        --delay-popup {
            if {![string is integer -strict $val] || $val < 0} {
                usage "--delay-popup wants milliseconds, not '$val'"
            }
            set popupDelay $val
        }
    }
}
if {$logFile eq ""} { usage "--log FILE is required" }

if {[catch {open $logFile {WRONLY APPEND CREAT} 0644} logChan]} {
    puts stderr "vagt-tk-journal: cannot open log: $logChan"
    exit 4
}
fconfigure $logChan -encoding utf-8 -translation lf -buffering line

proc logline {text} {
    puts $::logChan $text
    flush $::logChan
}

# ------------------------------------------------------------ look and feel
# Pin the point-to-pixel scaling (96 dpi) and give Tk's standard fonts pixel
# sizes, so text is drawn the same on any display.  Families stay Tk's own.
tk scaling [expr {96.0 / 72.0}]
foreach {font px} {
    TkDefaultFont -13 TkTextFont -13 TkHeadingFont -13 TkCaptionFont -16
    TkTooltipFont -12 TkFixedFont -13 TkIconFont -13 TkMenuFont -13
    TkSmallCaptionFont -12
} {
    font configure $font -size $px
}
font create JournalDisplay {*}[font configure TkDefaultFont] \
    -size -28 -weight bold

# Defaults at low priority; --option values (interactive) win over them.
option add *insertOffTime 0 widgetDefault
option add *Entry.background white widgetDefault
option add *antal.font JournalDisplay widgetDefault
option add *antal.background white widgetDefault
foreach {pattern value} $userOptions {
    option add $pattern $value interactive
}

# ----------------------------------------------------------------- variant
set menuLabels {
    ny      {Ny note}
    eksport {Eksportér}
    gem     {Gem journal}
    slet    {Slet alle notater}
    afslut  {Afslut}
}
set filerOrder {ny gem slet - afslut}
switch -- $variant {
    menu-swapped  { set filerOrder {ny slet gem - afslut} }
    menu-renamed  { dict set menuLabels gem {Gem journalen} }
    menu-inserted { set filerOrder {ny eksport gem slet - afslut} }
}

set sagstyper {Klage Byggesag Ansøgning Aktindsigt}
switch -- $variant {
    combo-renamed  { lset sagstyper 0 Klagesag }
    combo-inserted { set sagstyper [linsert $sagstyper 0 Anke] }
}

# (plain if: expr would turn the text "+1" into the number 1)
set navnLabel Navn
if {$variant eq "label-renamed"} { set navnLabel "Fulde navn" }
set plusLabel +1
if {$variant eq "counter-relabeled"} { set plusLabel "Læg til" }
set gemX       [expr {$variant eq "button-moved" ? 240 : 130}]
set annullerX  [expr {$variant eq "button-moved" ? 130 : 240}]

# ------------------------------------------------------------------ actions
proc clearForm {} {
    foreach w {.f.cpr .f.navn .f.note} { $w delete 0 end }
    set ::sagstype ""
    .f.sagstype selection clear
    focus .f.cpr
}

proc menuAction {what} {
    if {$what eq "gem" && $::variant eq "confirm-save"} {
        confirmSave
        return
    }
    logline "menu $what"
    switch -- $what {
        ny     { clearForm }
        slet   { clearForm; set ::antal 0 }
        afslut { exit 0 }
    }
}

proc gem {} {
    logline "gem cpr=[.f.cpr get]|navn=[.f.navn get]|sagstype=$::sagstype|note=[.f.note get]"
    clearForm
}

proc annuller {} {
    logline annuller
    clearForm
}

proc plus {} {
    incr ::antal
    logline "plus $::antal"
}

proc nulstil {} {
    set ::antal 0
    logline nulstil
}

proc sagstypeChosen {} {
    logline "sagstype $::sagstype"
}

# Runs as -postcommand: keeps the application busy before a pop-up appears.
proc slowPopup {} {
    if {$::popupDelay > 0} {
        update idletasks
        after $::popupDelay
    }
}

# A click in a field takes the X input focus as well, so a robot can click a
# field and type, with or without a window manager.  (Nothing else moves the
# focus: claiming it back when the pointer leaves raced with the grab Tk takes
# when it posts a menu from the keyboard.)
proc takeFocus {w} {
    focus -force $w
}

# ------------------------------------------------------------------ widgets
# Withdrawn until its final size and place are set (no flash at +0+0).
wm withdraw .
wm title . Journal
wm iconname . Journal
wm protocol . WM_DELETE_WINDOW { exit 0 }

menu .mb -tearoff 0
. configure -menu .mb
menu .mb.filer -tearoff 0 -postcommand slowPopup
menu .mb.rediger -tearoff 0 -postcommand slowPopup
.mb add cascade -label Filer -underline 0 -menu .mb.filer
.mb add cascade -label Rediger -underline 0 -menu .mb.rediger
foreach key $filerOrder {
    if {$key eq "-"} {
        .mb.filer add separator
    } else {
        .mb.filer add command -label [dict get $menuLabels $key] \
            -underline 0 -command [list menuAction $key]
    }
}
.mb.rediger add command -label Kopiér -underline 0 \
    -command {menuAction kopier}
.mb.rediger add command -label Indsæt -underline 0 \
    -command {menuAction indsaet}

# The whole main window, menu bar included, is 480x360.
# The menu bar shown is Tk's clone .#mb of .mb; it wraps its entries to the
# window's width, so its height is measured once the window has that width.
set winW 480
set winH 360
wm geometry . ${winW}x300
update idletasks
set formH [expr {$winH - [winfo reqheight .#mb]}]

frame .f -width $winW -height $formH
place .f -x 0 -y 0 -width $winW -height $formH

set y 12
foreach {name text} [list cpr CPR-nummer navn $navnLabel note Bemærkning] {
    label .f.l$name -text $text -anchor w
    entry .f.$name
    bind .f.$name <ButtonPress-1> {+takeFocus %W}
    place .f.l$name -x 16 -y $y -width 110 -height 24
    place .f.$name -x 130 -y $y -width 220 -height 24
    incr y 32
}

set sagstype ""
label .f.lsagstype -text Sagstype -anchor w
ttk::combobox .f.sagstype -state readonly -values $sagstyper \
    -textvariable sagstype -postcommand slowPopup
bind .f.sagstype <<ComboboxSelected>> sagstypeChosen
place .f.lsagstype -x 16 -y $y -width 110 -height 24
place .f.sagstype -x 130 -y $y -width 220 -height 24

button .f.gem -text Gem -command gem
button .f.annuller -text Annuller -command annuller
place .f.gem -x $gemX -y 150 -width 100 -height 30
place .f.annuller -x $annullerX -y 150 -width 100 -height 30

ttk::separator .f.sep -orient horizontal
place .f.sep -x 16 -y 196 -width 448 -height 2

set antal 0
label .f.lantal -text Antal: -anchor w
label .f.antal -textvariable antal -anchor e -relief sunken -borderwidth 2 \
    -padx 8
button .f.plus -text $plusLabel -command plus
button .f.nulstil -text Nulstil -command nulstil
place .f.lantal -x 16 -y 216 -width 110 -height 44
place .f.antal -x 130 -y 216 -width 120 -height 44
place .f.plus -x 266 -y 223 -width 84 -height 30
place .f.nulstil -x 364 -y 223 -width 84 -height 30

label .f.status -text Klar -anchor w -relief sunken -borderwidth 1 -padx 6
place .f.status -x 0 -y [expr {$formH - 22}] -width $winW -height 22


wm geometry . ${winW}x${formH}$geom
wm minsize . $winW $formH
wm maxsize . $winW $formH
wm resizable . 0 0
wm deiconify .
focus .f.cpr

# ------------------------------------------------------------- dialog
proc confirmSave {} {
    set d .confirm
    toplevel $d -class Bekraeft -width 240 -height 100 -relief raised -borderwidth 2
    wm withdraw $d
    wm title $d "Bekræft"
    wm transient $d .
    wm resizable $d 0 0
    label $d.text -text "Gem journalen?"
    button $d.ja -text Ja -command "logline {menu gem}; destroy $d"
    button $d.nej -text Nej -command "destroy $d"
    place $d.text -x 20 -y 14 -width 200 -height 30
    place $d.ja -x 30 -y 56 -width 80 -height 30
    place $d.nej -x 130 -y 56 -width 80 -height 30
    wm geometry $d 240x100+[expr {[winfo rootx .] + 120}]+[expr {[winfo rooty .] + 120}]
    wm deiconify $d
    raise $d
    logline "bekræft vist"
}

proc showNews {} {
    set d .news
    toplevel $d -class Nyheder -width 300 -height 140 \
        -relief raised -borderwidth 2 -highlightthickness 1 \
        -highlightbackground black -highlightcolor black
    wm withdraw $d
    wm title $d "Nyheder i version 2.0"
    wm transient $d .
    wm resizable $d 0 0
    wm protocol $d WM_DELETE_WINDOW newsOk
    label $d.text -justify left -anchor nw -wraplength 268 -text \
        "Journal er opdateret til version 2.0.\n\nSe de nye funktioner i menuen Filer."
    button $d.ok -text OK -command newsOk
    bind $d <Return> newsOk
    place $d.text -x 16 -y 14 -width 268 -height 72
    place $d.ok -x 110 -y 96 -width 80 -height 30
    set x [expr {[winfo rootx .] + 90}]
    set y [expr {[winfo rooty .] + 100}]
    wm geometry $d 300x140+$x+$y
    wm deiconify $d
    raise $d
    tkwait visibility $d
    grab $d
    focus -force $d.ok
    logline "nyheder vist"
}

proc newsOk {} {
    logline "nyheder ok"
    grab release .news
    destroy .news
    focus .f.cpr
}

tkwait visibility .
update idletasks
logline "start variant=$variant"
if {$variant eq "dialog"} {
    after 300 showNews
}
if {$variant eq "dialog-click"} {
    bind .f.cpr <ButtonPress-1> {
        bind .f.cpr <ButtonPress-1> {}
        after 300 showNews
    }
}
if {$variant eq "completion"} {
    bind .f.navn <KeyPress> {+
        if {![winfo exists .hint]} {
            toplevel .hint -class Forslag -relief solid -borderwidth 1
            wm overrideredirect .hint 1
            label .hint.l -text "Forslag: ingen" -anchor w -padx 4
            place .hint.l -x 0 -y 0 -width 108 -height 38
            wm geometry .hint 110x40+[expr {[winfo rootx .f.navn] + [winfo width .f.navn] + 4}]+[winfo rooty .f.navn]
            logline "forslag vist"
        }
    }
    bind .f.navn <FocusOut> {+ destroy .hint }
}
if {$variant eq "dialog-typing"} {
    bind .f.navn <KeyPress> {
        bind .f.navn <KeyPress> {}
        after 15 showNews
    }
}
