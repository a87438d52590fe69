# A Tk window for xio_drive appq (tests/xio/CMakeLists.txt).
label .l -text "vagt appq"
pack .l
