// A handler module that does not export `handlers`: the pool must refuse to start.
export const nothing = 1;
