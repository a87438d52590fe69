/*
 * Sag.java - vagt fixture: a small Swing "case" form standing in for a municipal
 * legacy Java client (Danish UI). Robots drive it with XTest; the log file proves
 * which action ran. See README.md in this folder for coordinates and X window facts.
 *
 * Build:  javac -encoding UTF-8 -d CLASSES_DIR Sag.java
 * Run:    java -cp CLASSES_DIR Sag --log FILE [--variant NAME] [--x N] [--y N]
 *         (or tests/apps/swing/vagt-swing-sag [--classes DIR] [-Dprop=val ...] -- ARGS)
 *
 * Arguments
 *   --log FILE      required. One UTF-8 line per action is appended (opened in append
 *                   mode, written with one write() per line, flushed and fsync'ed).
 *   --variant NAME  "vendor update" to simulate, default "normal" (see below).
 *   --x N --y N     screen position of the frame, default 0,0.
 *   --print-layout  once the frame is shown, print the boxes of all widgets, menu items
 *                   and combo list cells as JSON lines on stdout (x/y relative to the
 *                   frame's X window; the app keeps running). Menu items and combo cells
 *                   are computed, not measured: exact in Metal, within 2 px in Nimbus.
 *   --list-variants print the variant names and exit 0.
 *   --help          usage, exit 0.
 *   Exit status 2: bad/unknown argument or variant, missing --log.
 *   Exit status 4: the log file or the display cannot be opened.
 *   Exit status 0: Filer > Afslut, or the window is closed (WM_DELETE_WINDOW).
 *
 * Look and feel: Swing's default (Metal, Ocean theme) - the program never sets one, so
 * -Dswing.defaultlaf=javax.swing.plaf.nimbus.NimbusLookAndFeel switches it (a "vendor
 * update" through the toolkit's own mechanism). Geometry is absolute (null layout) so
 * every widget has the same bounds in every variant and look and feel.
 *
 * Window: JFrame titled "Sag", 520x380 (the X window, no WM), not resizable (min = max
 * size hints). WM_CLASS is set by the AWT X11 toolkit from the main class: "Sag", "Sag"
 * (frame and dialog alike). Menus, the combo list and the tooltip are Swing's default
 * lightweight pop-ups: drawn inside the frame's window, no X window of their own.
 *
 * Widgets (normal)
 *   Menu bar: "Filer" (mnemonic F): "Ny sag" (N), "Gem sag" (G), "Slet sag" (S),
 *             separator, "Afslut" (A);  "Hjælp" (H): "Om" (O). No accelerators.
 *   Form:     CPR-nummer [text], Navn [text], Sagstype [combo: Klage, Byggesag,
 *             Ansøgning, Aktindsigt; nothing selected at start], Bemærkning [text]
 *   Buttons:  "Gem" (tooltip "Gemmer sagen"), "Annuller"
 *   Result:   "Resultat:" label, a number label (starts at 0), "+1", "Nulstil"
 *   No caret blink, no clock, no animation (deterministic pixels).
 *
 * Log lines (exact, UTF-8, LF-terminated)
 *   menu ny | menu gem | menu slet | menu om | menu eksport (variant menu-inserted)
 *   menu afslut              (then the program exits 0)
 *   sagstype VALUE           whenever a Sagstype value is chosen (also re-choosing it)
 *   gem cpr=C|navn=N|sagstype=T|note=B   exact field contents (T empty if none chosen);
 *                            then the form is cleared (combo: no selection), focus -> CPR
 *   annuller                 then the form is cleared, focus -> CPR
 *   plus N                   N = the new value of the counter (1, 2, ...)
 *   nulstil                  counter back to 0
 *   nyheder vist             the dialog of variant "dialog" (or "dialog-typing") is open
 *                            (its WindowOpened)
 *   nyheder ok               OK (or Return) in the dialog of variant "dialog"; the
 *                            dialog closes and the frame takes the focus back
 *   Nothing else is logged (no start line; Escape, closing the window: nothing).
 *
 * Determinism helpers (deviations from plain Swing, on purpose)
 *   - a menu item fired by its mnemonic (or Return) does not also type that letter into
 *     the focused field (plain Swing does so about 1 time in 5 on Xvfb, see item()).
 *   - when the dialog closes the frame asks for the focus (without a WM nobody would).
 *
 * Variants (everything not mentioned is identical to normal)
 *   normal         the recorded layout
 *   menu-swapped   "Gem sag" and "Slet sag" swap positions in Filer (each keeps its command)
 *   menu-renamed   "Gem sag" reads "Gem sagen" (same command, mnemonic G)
 *   menu-inserted  new entry "Eksportér" (mnemonic E) before "Gem sag", logs "menu eksport"
 *   dialog         ~300 ms after the frame is shown a non-modal JDialog "Nyheder i version
 *                  2.0" (360x150, centred on the frame: frame +80+115) with a heading,
 *                  two lines of text and OK (dialog-relative 140,104 80x28) appears and
 *                  takes the focus
 *   dialog-typing  the first key typed into Navn opens the dialog of variant "dialog" ~15 ms
 *                  later (the application checks the name as it is typed); it takes the
 *                  focus, so the keys after it go to OK
 *   hint-window    the first key typed into Navn shows a hint "Forslag: ingen" in a JWindow
 *                  (an ordinary window, not override-redirect; it never takes the focus)
 *                  right of the field; logs "forslag vist"; it closes when Navn loses the
 *                  focus
 *   combo-renamed  Sagstype value "Klage" reads "Klagesag" (logs "sagstype Klagesag")
 *   combo-inserted new first Sagstype value "Anke"
 *   label-renamed  label "Navn" reads "Fulde navn" (same field position)
 *   button-moved   "Gem" and "Annuller" swap places
 */

import java.awt.Color;
import java.awt.Container;
import java.awt.Dimension;
import java.awt.Font;
import java.awt.event.ActionEvent;
import java.awt.event.KeyEvent;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import javax.swing.BorderFactory;
import javax.swing.JButton;
import javax.swing.JComboBox;
import javax.swing.JComponent;
import javax.swing.JDialog;
import javax.swing.JFrame;
import javax.swing.JLabel;
import javax.swing.JMenu;
import javax.swing.JMenuBar;
import javax.swing.JMenuItem;
import javax.swing.JPanel;
import javax.swing.JTextField;
import javax.swing.SwingConstants;
import javax.swing.SwingUtilities;
import javax.swing.Timer;
import javax.swing.WindowConstants;

public final class Sag {

    static final String[] VARIANTS = {
        "normal", "menu-swapped", "menu-renamed", "menu-inserted", "dialog", "dialog-typing", "hint-window",
        "combo-renamed", "combo-inserted", "label-renamed", "button-moved",
    };

    static final int FRAME_W = 520, FRAME_H = 380;

    /* ---- log ---------------------------------------------------------------------- */

    private static FileOutputStream logOut;

    /** Appends one line; one write() call per line so concurrent readers see whole lines. */
    static synchronized void log(String line) {
        byte[] b = (line + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            logOut.write(b);
            logOut.flush();
            try {
                logOut.getFD().sync();
            } catch (IOException e) {
                /* not every file supports fsync (pipes); the write itself went through */
            }
        } catch (IOException e) {
            System.err.println("Sag: cannot write log: " + e.getMessage());
        }
    }

    /* ---- arguments ---------------------------------------------------------------- */

    static void usage(java.io.PrintStream s) {
        s.println("usage: java -cp DIR Sag --log FILE [--variant NAME] [--x N] [--y N] [--print-layout]");
        s.println("       java -cp DIR Sag --list-variants | --help");
        s.println("variants: " + String.join(" ", VARIANTS));
    }

    static void die(String msg) {
        System.err.println("Sag: " + msg);
        usage(System.err);
        System.exit(2);
    }

    static int parseInt(String name, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            die(name + " wants an integer, got '" + v + "'");
            return 0;
        }
    }

    /* ---- state -------------------------------------------------------------------- */

    private final String variant;
    private final int posX, posY;

    private JFrame frame;
    private JTextField cpr, navn, note;
    private javax.swing.JWindow hint; /* variant hint-window */
    private JComboBox<String> sagstype;
    private JLabel counterLabel;
    private int counter;
    private boolean clearing;   // suppresses the combo's action event while clearing
    private final boolean printLayout;
    private JMenu[] menus;
    private final List<JComponent> layoutItems = new ArrayList<>();

    Sag(String variant, int x, int y, boolean printLayout) {
        this.variant = variant;
        this.printLayout = printLayout;
        this.posX = x;
        this.posY = y;
    }

    private boolean is(String v) {
        return variant.equals(v);
    }

    /* ---- menu --------------------------------------------------------------------- */

    /*
     * Swing fires a menu item on the KEY_PRESSED of its mnemonic (or of Return), closes the
     * menu and gives the focus back to the text field that had it. The KEY_TYPED of the
     * same keystroke sometimes (about 1 in 5 on Xvfb, a race with that asynchronous focus
     * change) is then typed into the field: "Alt+F, G" saves the case AND puts a "g" in
     * CPR-nummer. To keep the fixture deterministic the KEY_TYPED that follows an item's
     * action is swallowed; any KEY_PRESSED before it disarms that.
     */
    private static boolean swallowTyped;

    private static void installTypedGuard() {
        java.awt.KeyboardFocusManager.getCurrentKeyboardFocusManager().addKeyEventDispatcher(e -> {
            if (e.getID() == KeyEvent.KEY_PRESSED) {
                swallowTyped = false;
            } else if (e.getID() == KeyEvent.KEY_TYPED && swallowTyped) {
                swallowTyped = false;
                return true;   // consumed: not delivered to the focus owner
            }
            return false;
        });
    }

    private static JMenuItem item(String text, int mnemonic, String logLine) {
        JMenuItem it = new JMenuItem(text);
        it.setMnemonic(mnemonic);
        it.addActionListener(e -> {
            swallowTyped = true;
            log(logLine);
        });
        return it;
    }

    private JMenuBar buildMenuBar() {
        JMenuBar bar = new JMenuBar();

        JMenu filer = new JMenu("Filer");
        filer.setMnemonic(KeyEvent.VK_F);
        JMenuItem ny = item("Ny sag", KeyEvent.VK_N, "menu ny");
        JMenuItem gem = item(is("menu-renamed") ? "Gem sagen" : "Gem sag", KeyEvent.VK_G, "menu gem");
        JMenuItem slet = item("Slet sag", KeyEvent.VK_S, "menu slet");
        JMenuItem afslut = new JMenuItem("Afslut");
        afslut.setMnemonic(KeyEvent.VK_A);
        afslut.addActionListener(e -> {
            log("menu afslut");
            System.exit(0);
        });

        filer.add(ny);
        if (is("menu-inserted")) {
            filer.add(item("Eksportér", KeyEvent.VK_E, "menu eksport"));
        }
        if (is("menu-swapped")) {
            filer.add(slet);
            filer.add(gem);
        } else {
            filer.add(gem);
            filer.add(slet);
        }
        filer.addSeparator();
        filer.add(afslut);

        JMenu hjaelp = new JMenu("Hjælp");
        hjaelp.setMnemonic(KeyEvent.VK_H);
        hjaelp.add(item("Om", KeyEvent.VK_O, "menu om"));

        bar.add(filer);
        bar.add(hjaelp);
        menus = new JMenu[] {filer, hjaelp};
        return bar;
    }

    /* ---- form --------------------------------------------------------------------- */

    private static JTextField field() {
        JTextField f = new JTextField();
        f.getCaret().setBlinkRate(0);   // caret always on: no blinking pixels
        return f;
    }

    private void place(Container p, JComponent c, int x, int y, int w, int h) {
        c.setBounds(x, y, w, h);
        p.add(c);
        layoutItems.add(c);
    }

    private void clearForm() {
        clearing = true;
        try {
            cpr.setText("");
            navn.setText("");
            note.setText("");
            sagstype.setSelectedIndex(-1);
        } finally {
            clearing = false;
        }
        cpr.requestFocusInWindow();
    }

    private void onGem(ActionEvent e) {
        Object t = sagstype.getSelectedItem();
        log("gem cpr=" + cpr.getText() + "|navn=" + navn.getText()
            + "|sagstype=" + (t == null ? "" : t.toString()) + "|note=" + note.getText());
        clearForm();
    }

    private void onAnnuller(ActionEvent e) {
        log("annuller");
        clearForm();
    }

    private JPanel buildForm() {
        JPanel p = new JPanel(null);

        /* Rows 36 px apart; labels at x=20 (110 wide), inputs at x=140. */
        final int lx = 20, lw = 110, fx = 140, h = 26;
        final int[] rowY = {20, 56, 92, 128};

        cpr = field();
        navn = field();
        note = field();
        cpr.setName("cpr");
        navn.setName("navn");
        note.setName("note");
        if (is("hint-window")) {
            navn.addKeyListener(new java.awt.event.KeyAdapter() {
                @Override
                public void keyPressed(java.awt.event.KeyEvent e) {
                    if (hint != null)
                        return;
                    hint = new javax.swing.JWindow(frame);
                    hint.setFocusableWindowState(false);
                    JLabel l = new JLabel(" Forslag: ingen");
                    l.setBorder(BorderFactory.createLineBorder(Color.DARK_GRAY, 1));
                    hint.setContentPane(l);
                    java.awt.Point at = navn.getLocationOnScreen();
                    hint.setBounds(at.x + navn.getWidth() + 4, at.y, 120, 26);
                    hint.setVisible(true);
                    log("forslag vist");
                }
            });
            navn.addFocusListener(new java.awt.event.FocusAdapter() {
                @Override
                public void focusLost(java.awt.event.FocusEvent e) {
                    if (hint != null)
                        hint.dispose();
                }
            });
        }
        if (is("dialog-typing")) {
            navn.addKeyListener(new java.awt.event.KeyAdapter() {
                private boolean shown;

                @Override
                public void keyPressed(java.awt.event.KeyEvent e) {
                    if (shown)
                        return;
                    shown = true;
                    Timer t = new Timer(15, ev -> showNews());
                    t.setRepeats(false);
                    t.start();
                }
            });
        }

        List<String> types = new ArrayList<>(Arrays.asList("Klage", "Byggesag", "Ansøgning", "Aktindsigt"));
        if (is("combo-renamed")) {
            types.set(0, "Klagesag");
        }
        if (is("combo-inserted")) {
            types.add(0, "Anke");
        }
        sagstype = new JComboBox<>(types.toArray(new String[0]));
        sagstype.setName("sagstype");
        sagstype.setSelectedIndex(-1);
        sagstype.setMaximumRowCount(8);   // all values visible, no scroll bar
        sagstype.addActionListener(e -> {
            if (clearing) {
                return;
            }
            Object v = sagstype.getSelectedItem();
            if (v != null) {
                log("sagstype " + v);
            }
        });

        String[] labels = {"CPR-nummer", is("label-renamed") ? "Fulde navn" : "Navn", "Sagstype", "Bemærkning"};
        JComponent[] inputs = {cpr, navn, sagstype, note};
        int[] widths = {160, 340, 200, 340};
        for (int i = 0; i < labels.length; i++) {
            JLabel l = new JLabel(labels[i]);
            l.setLabelFor(inputs[i]);
            place(p, l, lx, rowY[i], lw, h);
            place(p, inputs[i], fx, rowY[i], widths[i], h);
        }

        JButton gem = new JButton("Gem");
        gem.setName("gem");
        gem.setToolTipText("Gemmer sagen");
        gem.addActionListener(this::onGem);
        JButton annuller = new JButton("Annuller");
        annuller.setName("annuller");
        annuller.addActionListener(this::onAnnuller);
        boolean moved = is("button-moved");
        place(p, moved ? annuller : gem, 140, 176, 100, 28);
        place(p, moved ? gem : annuller, 250, 176, 100, 28);

        /* Result display: a number and two buttons. */
        JLabel resLabel = new JLabel("Resultat:");
        place(p, resLabel, lx, 236, lw, 28);
        counterLabel = new JLabel("0", SwingConstants.RIGHT);
        counterLabel.setName("resultat");
        counterLabel.setBorder(BorderFactory.createCompoundBorder(
            BorderFactory.createLineBorder(Color.GRAY), BorderFactory.createEmptyBorder(0, 4, 0, 6)));
        counterLabel.setFont(counterLabel.getFont().deriveFont(Font.BOLD, 16f));
        place(p, counterLabel, 140, 236, 80, 28);
        JButton plus = new JButton("+1");
        plus.setName("plus");
        plus.addActionListener(e -> {
            counter++;
            counterLabel.setText(Integer.toString(counter));
            log("plus " + counter);
        });
        place(p, plus, 230, 236, 60, 28);
        JButton nulstil = new JButton("Nulstil");
        nulstil.setName("nulstil");
        nulstil.addActionListener(e -> {
            counter = 0;
            counterLabel.setText("0");
            log("nulstil");
        });
        place(p, nulstil, 300, 236, 90, 28);

        return p;
    }

    /* ---- dialog (variant "dialog") ------------------------------------------------ */

    private void showNews() {
        JDialog d = new JDialog(frame, "Nyheder i version 2.0", false);
        d.setDefaultCloseOperation(WindowConstants.DISPOSE_ON_CLOSE);
        /* Without a window manager nobody gives the X focus back to the frame when the
         * dialog goes away (it falls to PointerRoot and Java then drops key events until
         * the frame is clicked); ask for it ourselves, as a WM would. */
        d.addWindowListener(new java.awt.event.WindowAdapter() {
            /* when it came, beside the robot's actions: a test tells a robot that acted
             * before a late dialog existed from one that ignored it */
            @Override
            public void windowOpened(java.awt.event.WindowEvent e) {
                log("nyheder vist");
            }

            @Override
            public void windowClosed(java.awt.event.WindowEvent e) {
                frame.toFront();
                frame.requestFocus();
                cpr.requestFocusInWindow();
            }
        });
        d.setResizable(false);
        /* Without a window manager the dialog has no title bar: a border and a heading
         * inside keep it visibly distinct from the frame behind it. */
        JPanel p = new JPanel(null);
        p.setBorder(BorderFactory.createLineBorder(Color.DARK_GRAY, 2));
        JLabel heading = new JLabel("Nyheder i version 2.0");
        heading.setFont(heading.getFont().deriveFont(Font.BOLD, 14f));
        JLabel text1 = new JLabel("Sag er opdateret til version 2.0.");
        JLabel text2 = new JLabel("Se de nye funktioner under Hjælp.");
        JButton ok = new JButton("OK");
        ok.setName("ok");
        ok.addActionListener(e -> {
            log("nyheder ok");
            d.dispose();
        });
        heading.setBounds(20, 12, 320, 22);
        text1.setBounds(20, 42, 320, 20);
        text2.setBounds(20, 62, 320, 20);
        ok.setBounds(140, 104, 80, 28);
        p.add(heading);
        p.add(text1);
        p.add(text2);
        p.add(ok);
        d.setContentPane(p);
        d.getRootPane().setDefaultButton(ok);
        d.setSize(360, 150);   // OK button: 140,104 80x28 in the dialog (centre 180,118)
        d.setLocation(posX + (FRAME_W - 360) / 2, posY + (FRAME_H - 150) / 2);
        d.setVisible(true);
        d.toFront();
        if (printLayout) {
            java.awt.Point o = d.getRootPane().getLocationOnScreen();
            System.out.println("{\"type\":\"dialog\",\"title\":" + json(d.getTitle()) + ",\"x\":" + o.x
                + ",\"y\":" + o.y + ",\"w\":" + d.getRootPane().getWidth() + ",\"h\":" + d.getRootPane().getHeight() + "}");
            box("button", "OK", "\"id\":\"ok\",\"window\":\"dialog\"", ok.getX(), ok.getY(), ok.getWidth(), ok.getHeight());
            System.out.flush();
        }
    }

    /* ---- --print-layout ----------------------------------------------------------- */

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('"').toString();
    }

    /** One JSON line; x/y relative to the frame's X window (the root pane's origin). */
    private void box(String type, String text, String extra, int x, int y, int w, int h) {
        System.out.println("{\"type\":" + json(type) + (text == null ? "" : ",\"text\":" + json(text))
            + (extra == null ? "" : "," + extra)
            + ",\"x\":" + x + ",\"y\":" + y + ",\"w\":" + w + ",\"h\":" + h
            + ",\"cx\":" + (x + w / 2) + ",\"cy\":" + (y + h / 2) + "}");
    }

    private void box(String type, String text, String extra, JComponent c) {
        java.awt.Point o = SwingUtilities.convertPoint(c, 0, 0, frame.getRootPane());
        box(type, text, extra, o.x, o.y, c.getWidth(), c.getHeight());
    }

    /** Prints the window-relative boxes of the widgets, of the menu items (computed as
     *  the posted menu will show them) and of the combo list cells. */
    private void printLayout() {
        java.awt.Point w = frame.getRootPane().getLocationOnScreen();
        System.out.println("{\"type\":\"window\",\"title\":\"Sag\",\"variant\":" + json(variant)
            + ",\"laf\":" + json(javax.swing.UIManager.getLookAndFeel().getName())
            + ",\"x\":" + w.x + ",\"y\":" + w.y
            + ",\"w\":" + frame.getRootPane().getWidth() + ",\"h\":" + frame.getRootPane().getHeight() + "}");
        for (JMenu m : menus) {
            box("menu", m.getText(), null, m);
            javax.swing.JPopupMenu pm = m.getPopupMenu();
            Dimension ps = pm.getPreferredSize();
            pm.setSize(ps);
            pm.doLayout();
            java.awt.Point mo = SwingUtilities.convertPoint(m, 0, m.getHeight(), frame.getRootPane());
            for (java.awt.Component c : pm.getComponents()) {
                java.awt.Rectangle r = c.getBounds();
                String type = c instanceof JMenuItem ? "menuitem" : "separator";
                String text = c instanceof JMenuItem ? ((JMenuItem) c).getText() : null;
                box(type, text, "\"menu\":" + json(m.getText()), mo.x + r.x, mo.y + r.y, r.width, r.height);
            }
        }
        for (JComponent c : layoutItems) {
            String type = c instanceof JLabel ? (c.getName() == null ? "label" : "display")
                : c instanceof JButton ? "button" : c instanceof JComboBox ? "combo" : "field";
            String text = c instanceof JLabel ? ((JLabel) c).getText()
                : c instanceof JButton ? ((JButton) c).getText() : null;
            String id = c.getName() == null ? null : "\"id\":" + json(c.getName());
            box(type, text, id, c);
        }
        Object child = sagstype.getUI().getAccessibleChild(sagstype, 0);
        if (child instanceof javax.swing.plaf.basic.ComboPopup) {
            javax.swing.JList<?> list = ((javax.swing.plaf.basic.ComboPopup) child).getList();
            java.awt.Insets in = ((JComponent) child).getInsets();
            java.awt.Point co = SwingUtilities.convertPoint(sagstype, 0, sagstype.getHeight(), frame.getRootPane());
            for (int i = 0; i < sagstype.getItemCount(); i++) {
                java.awt.Rectangle r = list.getCellBounds(i, i);
                if (r != null) {
                    box("comboitem", sagstype.getItemAt(i), null, co.x + in.left + r.x, co.y + in.top + r.y,
                        sagstype.getWidth() - in.left - in.right, r.height);
                }
            }
        }
        System.out.flush();
    }

    /* ---- frame -------------------------------------------------------------------- */

    void show() {
        installTypedGuard();
        frame = new JFrame("Sag");
        frame.setDefaultCloseOperation(WindowConstants.EXIT_ON_CLOSE);
        frame.setJMenuBar(buildMenuBar());
        frame.setContentPane(buildForm());
        frame.setResizable(false);
        frame.setSize(FRAME_W, FRAME_H);
        frame.setMinimumSize(new Dimension(FRAME_W, FRAME_H));
        frame.setLocation(posX, posY);
        frame.setVisible(true);
        cpr.requestFocusInWindow();
        if (printLayout) {
            SwingUtilities.invokeLater(this::printLayout);
        }

        if (is("dialog")) {
            Timer t = new Timer(300, e -> showNews());
            t.setRepeats(false);
            t.start();
        }
    }

    public static void main(String[] args) {
        String logPath = null;
        String variant = "normal";
        int x = 0, y = 0;
        boolean printLayout = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--help":
                case "-h":
                    usage(System.out);
                    System.exit(0);
                    break;
                case "--list-variants":
                    for (String v : VARIANTS) {
                        System.out.println(v);
                    }
                    System.exit(0);
                    break;
                case "--print-layout":
                    printLayout = true;
                    break;
                case "--log":
                case "--variant":
                case "--x":
                case "--y":
                    if (i + 1 >= args.length) {
                        die(a + " wants a value");
                    }
                    String v = args[++i];
                    if (a.equals("--log")) {
                        logPath = v;
                    } else if (a.equals("--variant")) {
                        variant = v;
                    } else if (a.equals("--x")) {
                        x = parseInt(a, v);
                    } else {
                        y = parseInt(a, v);
                    }
                    break;
                default:
                    die("unknown argument '" + a + "'");
            }
        }
        if (logPath == null) {
            die("--log FILE is required");
        }
        if (!Arrays.asList(VARIANTS).contains(variant)) {
            die("unknown variant '" + variant + "'");
        }
        try {
            logOut = new FileOutputStream(new File(logPath), true);
        } catch (IOException e) {
            System.err.println("Sag: cannot open log " + logPath + ": " + e.getMessage());
            System.exit(4);
        }

        if (java.awt.GraphicsEnvironment.isHeadless()) {
            System.err.println("Sag: no display (DISPLAY unset or java.awt.headless)");
            System.exit(4);
        }
        final Sag app = new Sag(variant, x, y, printLayout);
        try {
            SwingUtilities.invokeAndWait(app::show);
        } catch (Throwable t) {   // AWTError: cannot open the display, or a failure in show()
            Throwable c = t instanceof java.lang.reflect.InvocationTargetException ? t.getCause() : t;
            System.err.println("Sag: cannot show the window: " + c);
            System.exit(4);
        }
    }
}
