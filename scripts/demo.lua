-- The demo robot: registers three citizens in the bundled legacy case-registration app
-- (tests/apps/vagt-demo-app, class VagtDemo). Every click and every typed field is a
-- guarded step; the keys are the same on every loop iteration ("Registrer borger#3:type").
--
--   vagt record scripts/demo.lua --xvfb --set app=build/tests/apps/vagt-demo-app
--   vagt run scripts/demo.lua --xvfb --set app=build/tests/apps/vagt-demo-app \
--        --set out=registreringer.tsv [--set variant=swapped]

local citizens = {
  { cpr = "010190-1234", navn = "Søren Ærø", adresse = "Åboulevarden 7, 2. th.",
    postnr = "8000", by = "Aarhus C", note = "Flyttet fra Ølstykke" },
  { cpr = "241285-4321", navn = "Åse Øberg-Nørgaard", adresse = "Strandvejen 12",
    postnr = "2900", by = "Hellerup", note = "Ønsker brev — gebyr 0 €" },
  { cpr = "311299-0007", navn = "Jens Æbelø", adresse = "Ærøgade 3",
    postnr = "5970", by = "Ærøskøbing", note = "Aftale {særlig} @ rådhuset" },
}

if robot.params.batch == "2" then -- a second data set, for recording twice
  citizens = {
    { cpr = "150362-2468", navn = "Birthe Kjærgård", adresse = "Vestergade 101",
      postnr = "5000", by = "Odense C", note = "Ny adresse fra 1. maj" },
    { cpr = "070707-7777", navn = "Mads Ødegaard Lund", adresse = "Kirkevej 2B",
      postnr = "9990", by = "Skagen", note = "Ringes op efter kl. 16" },
    { cpr = "290280-1357", navn = "Ida Å. Holm", adresse = "Havnen 1",
      postnr = "3700", by = "Rønne", note = "" },
  }
end

-- Window-relative click points of the form (vagt-demo-app --print-layout).
local fields = {
  { "cpr", 190, 37 }, { "navn", 190, 71 }, { "adresse", 190, 105 },
  { "postnr", 190, 139 }, { "by", 190, 173 }, { "note", 190, 207 },
}
local GEM = { x = 222, y = 261 }
local ANNULLER = { x = 326, y = 261 }

local argv = { robot.params.app or "vagt-demo-app",
  "--out", robot.params.out or "registreringer.tsv", "-geometry", "+0+0" }
if robot.params.variant then -- the app's "vendor update" variants, for the demo and tests
  argv[#argv + 1] = "--variant"
  argv[#argv + 1] = robot.params.variant
end
local app = robot.app.start(argv)
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
w:activate()
w:ignore{ x = 0, y = 374, w = 640, h = 26 } -- the status bar: messages and a live clock

robot.step("Ryd formular", function()
  w:click(ANNULLER) -- start from an empty form, whatever the app shows
end)

for i, c in ipairs(citizens) do
  robot.step("Registrer borger", function()
    for _, f in ipairs(fields) do
      w:click{ x = f[2], y = f[3] }
      w:type(c[f[1]])
    end
    w:click(GEM)
  end)
  robot.log(("borger %d af %d registreret"):format(i, #citizens))
end

-- Give the app a moment to write the last record before the run ends it.
robot.sleep(0.5)
