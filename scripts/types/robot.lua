---@meta robot
-- LuaLS (lua-language-server) definitions of the vagt robot API, for completion and type
-- checks in the editor. Point your editor at this folder (scripts/.luarc.json does).
-- A test (tests/integration/api_stubs.sh) keeps this file in step with `vagt check --api`.

---@class robot
robot = {}

---Parameters given on the command line with `--set key=value` (all strings).
---@type table<string, string>
robot.params = {}

---The vagt version running the script.
---@type string
robot.version = ""

---What evidence images keep: "masked" (default: data blanked), "none" or "full" (opt-in).
---`vagt run --evidence` wins over it. Any other value is an error.
---@type "masked"|"none"|"full"
robot.evidence = "masked"

---Names a group of actions. Inside a step every action's baseline key is the step's name,
---the action's ordinal within it and its kind, so loops and edits keep the keys stable.
---Returns what `fn` returns. `opts.timeout` (seconds) is a deadline for the whole step.
---@param name string
---@param opts_or_fn {timeout?: number}|fun(): any
---@param fn? fun(): any
---@return any ...
function robot.step(name, opts_or_fn, fn) end

---Writes a line to the run log (stderr and log.txt); secrets are masked.
---@param ... any
function robot.log(...) end

---Sleeps, but never past the script's or the step's deadline.
---@param seconds number
function robot.sleep(seconds) end

---A credential from VAGT_SECRET_<NAME> or the owner-only secrets file. Never logged.
---@param name string
---@return string
function robot.secret(name) end

---Resumable batch: iterates work items from a CSV file (header row names the fields) or a
---list, keeping each item's state (pending, running, done, failed) in SQLite; a run killed
---halfway skips items done and never enters one twice. With fn: fn(item) per item, returns counts.
---@param name string
---@param source string|table
---@param opts_or_fn? {key?: string, retry_failed?: boolean}|fun(item: any)
---@param fn? fun(item: any)
---@return any
function robot.items(name, source, opts_or_fn, fn) end

robot.ocr = {}

---OCR languages (Tesseract codes joined with "+"), read when OCR is first used.
---Missing language data stops the run with exit 4 and names the Debian package.
---@type string
robot.ocr.lang = "dan+eng"

robot.clipboard = {}

---@class robot.ClipboardGetOpts
---@field timeout? number seconds to wait for the owner (and between two INCR parts); default 2

---Reads a selection as UTF-8 text: "CLIPBOARD" (default) or "PRIMARY". Whatever the owner
---offers (UTF8_STRING, Latin-1 STRING, COMPOUND_TEXT, TEXT; INCR for large texts).
---Returns nil and a reason when nobody owns it, it offers no text or does not answer in
---time; more than 16 MiB raises. The log says only how many bytes were read.
---@param selection_or_opts? "CLIPBOARD"|"PRIMARY"|robot.ClipboardGetOpts
---@param opts? robot.ClipboardGetOpts
---@return string|nil text
---@return string? reason
function robot.clipboard.get(selection_or_opts, opts) end

---Owns the selection ("CLIPBOARD" by default, or "PRIMARY") with this UTF-8 text and serves
---it to any application that pastes, until the run ends or another application takes it.
---@param text string
---@param selection? "CLIPBOARD"|"PRIMARY"
function robot.clipboard.set(text, selection) end

robot.app = {}

---@class robot.AppStart
---@field [integer] string program and arguments (no shell)
---@field keep? boolean keep it running after the run (default: it ends with the run)
---@field cwd? string its working folder (a program named "./x" is found there)
---@field env? table<string, string|number|false> added to (or, false, removed from) its environment

---Starts an application. It and its children end with the run unless `keep = true`.
---Its environment is DISPLAY, XAUTHORITY, HOME, PATH and LANG (vagt's UTF-8 locale) and
---nothing else of vagt's (no VAGT_SECRET_*); `env` adds, replaces or removes entries,
---e.g. `env = { LANG = "da_DK.ISO-8859-1" }` for an 8-bit legacy application. Its output
---goes to the run folder's apps.log. Under an allow-list only listed programs start.
---@param argv robot.AppStart
---@return App
function robot.app.start(argv) end

robot.window = {}

---@class robot.WindowQuery
---@field class? string WM_CLASS class or instance name, exact
---@field name? string Lua pattern matched against the title
---@field timeout? number seconds (wait only; default 10)

---Waits for a top-level window; raises naming the windows it saw when none appears.
---@param query robot.WindowQuery
---@return Window
function robot.window.wait(query) end

---Looks once; nil when no window matches.
---@param query robot.WindowQuery
---@return Window|nil
function robot.window.find(query) end

---@class robot.WindowInfo
---@field id integer
---@field class string
---@field instance string
---@field title string
---@field x integer
---@field y integer
---@field w integer
---@field h integer

---All visible top-level windows, bottom to top.
---@return robot.WindowInfo[]
function robot.window.list() end

---@class App
---@field pid integer
---@field name string
local App = {}

---Waits for a window of this application (new since it started, or carrying its pid).
---@param query? robot.WindowQuery
---@return Window
function App:wait_window(query) end

---Ends the application and its children (SIGTERM, then SIGKILL).
function App:close() end

---@return boolean
function App:running() end

---@class Window
---@field id integer
---@field class string
---@field title string read from the display each time
---@field instance string
---@field x integer root coordinates
---@field y integer
---@field w integer
---@field h integer
local Window = {}

---Gives the window the keyboard focus (EWMH when a window manager supports it).
---@param opts? {timeout?: number}
function Window:activate(opts) end

---@class robot.Region
---@field x integer
---@field y integer
---@field w integer
---@field h integer

---@class robot.Point
---@field x integer
---@field y integer

---@class robot.FindOpts
---@field timeout? number seconds to keep looking (find_text: 0 = one look; wait_text: 10)
---@field region? robot.Region only matches whose centre lies inside
---@field near? robot.Point the match nearest this point ({ x =, y = }; {x, y} also works)
---@field nth? integer the nth match in reading order
---@field ignore_case? boolean

---@class robot.TextBox
---@field x integer
---@field y integer
---@field w integer
---@field h integer
---@field cx integer centre, where a click goes
---@field cy integer
---@field text string as read
---@field conf number Tesseract's confidence, 0-100
---@field line? integer (words() only) text line, 1-based

---@class robot.PointOpts: robot.FindOpts
---@field x? integer window-relative pixels (or text =)
---@field y? integer
---@field text? string a word or phrase found by OCR on the step's judged screen (its
---pop-up menus and lists included); the input goes to its centre
---@field anchor? "left"|"center"|"right" what dx/dy start from: the text's left edge, centre or right edge
---@field dx? integer offset from the anchor: the field beside a label
---@field dy? integer
---@field popup? boolean look for the text only in the front-most pop-up (an open menu or list)
---@field ignore? robot.Region|robot.Region[] regions the guard ignores for this action
---@field key? string the action's own name in its step key ("Borger#note:click"), in place
---of its ordinal: for an action that runs in some iterations only

---@class robot.ClickOpts: robot.PointOpts
---@field button? integer 1..5
---@field double? boolean

---A guarded click: at window-relative pixels, or on a text found by OCR (dx/dy from it).
---Two equally good matches without near/nth are an error naming the candidates; a text
---missing from a screen that matches its recording is an error (exit 1) with the screen
---as evidence, missing from a changed screen it is drift (exit 3).
---@param opts robot.ClickOpts
function Window:click(opts) end

---A guarded button press that stays held (Xaw menus open on press and act on release).
---While a button is held, vagt neither moves the pointer aside nor activates the window.
---@param opts robot.ClickOpts
function Window:press(opts) end

---A guarded button release, where the pointer is or at a point first.
---@param opts? robot.ClickOpts
function Window:release(opts) end

---A guarded pointer move (hover; with a held button, a drag through a menu).
---@param opts robot.PointOpts
function Window:move(opts) end

---@class robot.DragOpts
---@field from robot.PointOpts
---@field to robot.PointOpts
---@field button? integer 1..5
---@field ignore? robot.Region|robot.Region[]
---@field key? string

---A guarded drag: press at from, move to to, release (one step, judged before the press).
---@param opts robot.DragOpts
function Window:drag(opts) end

---@class robot.MenuPath
---@field [integer] string the entries by text, from the menu bar down
---@field timeout? number seconds to wait for each level's text (5)
---@field ignore? robot.Region|robot.Region[]
---@field key? string

---Walks a menu path by text: press on the menu bar's entry, move through each pop-up with
---the button held, release on the last entry. Every level is a guarded step with a key of
---its own ("Name#3:menu.2"), so a renamed, swapped or inserted entry halts before the
---release. The first level is looked for in the window, the others in the newest pop-up.
---@param path robot.MenuPath
function Window:menu(path) end

---Types any Unicode text exactly (a guarded step). Focuses the window first. A window
---that opens while it types, or the focus leaving the window, stops the keys there and
---halts (exit 3); `popups = true` lets the application's own pop-ups (a completion list
---that keeps no focus) open meanwhile.
---@param text string
---@param opts? {ignore?: robot.Region|robot.Region[], key?: string, popups?: boolean}
function Window:type(text, opts) end

---Sends an xdo-style key sequence: "ctrl+s", "Return", "ctrl+a BackSpace" (a guarded step).
---Stops like type() when a window opens between two combos.
---@param keys string
---@param opts? {ignore?: robot.Region|robot.Region[], key?: string, popups?: boolean}
function Window:key(keys, opts) end

---Declares a dynamic region (a clock, a counter) the guard ignores for the rest of the run.
---@param region robot.Region
function Window:ignore(region) end

---Waits until the window is destroyed or unmapped; raises at the deadline (default 10 s).
---@param opts? {timeout?: number}
---@return true
function Window:wait_closed(opts) end

---Waits until the title matches the Lua pattern and returns it; raises at the deadline
---(default 10 s) or when the window goes, never quoting the title.
---@param pattern string
---@param opts? {timeout?: number}
---@return string
function Window:wait_title(pattern, opts) end

---Declares a region of this window that holds data (a CPR number, a name) for the rest of
---the run: not compared, and blanked in every evidence image.
---@param region robot.Region
function Window:sensitive(region) end

---Finds a word or phrase; nil when it is not there (a probe, never an error).
---@param text string
---@param opts? robot.FindOpts
---@return robot.TextBox|nil
function Window:find_text(text, opts) end

---Waits for a text; raises at the deadline, saying what the window read instead.
---@param text string
---@param opts? robot.FindOpts
---@return robot.TextBox
function Window:wait_text(text, opts) end

---The text inside a rectangle (lines joined with "\n").
---@param region robot.Region
---@return string
function Window:read_text(region) end

---Every word OCR reads in the window, in reading order.
---@return robot.TextBox[]
function Window:words() end

---@return robot.WindowInfo
function Window:geometry() end

---@return boolean
function Window:exists() end
