// The certificate's print button (no inline script: the pages' security policy forbids it).
document.getElementById("print").addEventListener("click", function () { window.print(); });
